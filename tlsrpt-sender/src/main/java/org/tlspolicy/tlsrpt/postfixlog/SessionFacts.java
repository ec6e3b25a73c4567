package org.tlspolicy.tlsrpt.postfixlog;

/**
 * What Postfix's log says about one TLS session, before any policy is applied: whether TLS was
 * negotiated and how far the peer was trusted, or why there was no TLS. Whether that is a
 * success depends on the policy in force (see the report package's classification).
 */
public sealed interface SessionFacts {

    /**
     * TLS was negotiated.
     *
     * @param trust               how far Postfix trusted the peer
     * @param verificationFailure Postfix's reason the certificate failed verification (e.g.
     *                            {@code num=62:hostname mismatch}), or null
     * @param refused             Postfix refused to go on with this peer for want of trust
     *                            ({@code Server certificate not verified}): its policy required
     *                            more
     */
    record Negotiated(SmtpLogEvent.Trust trust, String verificationFailure, boolean refused)
            implements SessionFacts {
    }

    /**
     * No TLS: the MX did not offer STARTTLS ({@code TLS is required, but was not offered}) or
     * mail went in the clear.
     *
     * @param delivered the message went anyway, in the clear
     */
    record StarttlsNotOffered(boolean delivered) implements SessionFacts {
    }

    /**
     * The TLS handshake failed ({@code SSL_connect error}, then {@code Cannot start TLS:
     * handshake failure}).
     *
     * @param reason Postfix's words, with OpenSSL's reason when it logged one
     */
    record HandshakeFailed(String reason) implements SessionFacts {
    }

    /**
     * No connection: the policy said dane-only, and Postfix's own DNS lookups found no way to
     * do DANE with the MX ({@code non DNSSEC destination}, {@code no TLSA records found},
     * {@code TLSA lookup error for HOST:PORT}, {@code TLSA records unusable}).
     */
    record DaneUnavailable(String reason) implements SessionFacts {
    }

    /**
     * No connection: the TLS policy lookup failed (a {@code TEMP} from the policy server, or
     * none reachable), so Postfix deferred the mail without trying the MX.
     *
     * @param serverReason the policy server's TEMP text, or null if there was none (e.g. the
     *                     server was not running)
     */
    record PolicyLookupFailed(String serverReason) implements SessionFacts {
    }
}
