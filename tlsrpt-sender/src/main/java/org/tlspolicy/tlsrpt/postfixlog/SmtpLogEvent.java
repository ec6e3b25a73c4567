package org.tlspolicy.tlsrpt.postfixlog;

import org.tlspolicy.smtp.Domain;

import java.util.Optional;

/**
 * What one line of Postfix's SMTP client (or queue manager) says about a delivery, in the words
 * Postfix 3.7 writes at {@code smtp_tls_loglevel = 1} (learnt from a real Postfix: the fixtures
 * under {@code src/test/resources/postfix-logs/}). Lines of other programs, and lines of these
 * that say nothing about TLS or outcomes, are not events.
 */
public sealed interface SmtpLogEvent {

    /** How far Postfix trusted a peer's certificate (TLS_README, "Client-side logging"). */
    enum Trust {
        /** Chain and name (or DANE TLSA) verified. */
        VERIFIED,
        /** Chain verified, name not checked or not matching at this level. */
        TRUSTED,
        /** Chain not verified. */
        UNTRUSTED,
        /** No certificate (anonymous cipher). */
        ANONYMOUS
    }

    /** {@code Verified TLS connection established to HOST[IP]:PORT: TLSv1.3 with …} */
    record TlsEstablished(Trust trust, Endpoint mx) implements SmtpLogEvent {
    }

    /**
     * {@code [server ]certificate verification failed for HOST[IP]:PORT: REASON}, e.g. {@code
     * num=62:hostname mismatch}, {@code certificate has expired}, {@code self-signed
     * certificate}, {@code num=65:no matching DANE TLSA records}.
     */
    record VerificationFailed(Endpoint mx, String reason) implements SmtpLogEvent {
    }

    /**
     * {@code HOST[IP]:PORT: re-using session with untrusted certificate, look for details
     * earlier in the log} (tls_client.c; {@code untrusted peer credential} from Postfix 3.9): a
     * TLS session resumed from the session cache, whose peer failed verification when it was
     * first made; OpenSSL does not verify again, so Postfix logs no reason this time.
     */
    record SessionResumedUntrusted(Endpoint mx) implements SmtpLogEvent {
    }

    /**
     * {@code SSL_connect error to HOST[IP]:PORT: REASON} (tls_client.c): the TLS handshake
     * failed (REASON is a number, errno's text, or {@code lost connection}); Postfix 3.10's
     * own TLSRPT calls it {@code validation-failure}, {@code tls-handshake-failure}.
     */
    record HandshakeFailed(Endpoint mx, String reason) implements SmtpLogEvent {
    }

    /**
     * {@code warning: TLS library problem: ERROR} (tls_misc.c): OpenSSL's reason for the
     * handshake failure logged just before, by the same process.
     */
    record TlsLibraryProblem(String detail) implements SmtpLogEvent {
    }

    /**
     * {@code warning: socketmap:…: socketmap server temporary error: REASON}: the policy server
     * (tlspolicyd) answered TEMP with REASON.
     */
    record PolicyServerError(String reason) implements SmtpLogEvent {
    }

    /**
     * {@code warning: TLS policy lookup for DOMAIN/MXHOST: REASON}: no session was attempted
     * with MXHOST, because the policy lookup for DOMAIN failed (or Postfix's own DANE lookups
     * left no way to do what the policy asks). {@code domain} is "" when Postfix did not name
     * it ({@code TLS policy lookup error for MXHOST/ADDRESS}).
     */
    record PolicyLookupFailed(String domain, String mxHost, String reason)
            implements SmtpLogEvent {
    }

    /**
     * {@code QUEUEID: REASON} from the SMTP client: one MX host failed for this message and the
     * next is tried (e.g. {@code Server certificate not verified}, {@code TLS is required, but
     * was not offered by host HOST[IP]}).
     */
    record HostFailed(String queueId, String reason) implements SmtpLogEvent {
    }

    /**
     * {@code QUEUEID: to=<RCPT>, relay=HOST[IP]:PORT, …, dsn=D, status=S (REASON)}: the
     * outcome for one recipient; {@code relay} is null for {@code relay=none}. {@code delays}
     * ({@code a/b/c/d}) is the same for every recipient of one delivery attempt, and differs
     * for a later attempt of the same message (a retry).
     */
    record Delivery(String queueId, String recipient, Endpoint relay, String dsn, String status,
                    String reason, String delays) implements SmtpLogEvent {

        public Delivery(String queueId, String recipient, Endpoint relay, String dsn,
                        String status, String reason) {
            this(queueId, recipient, relay, dsn, status, reason, "");
        }

        /**
         * The recipient's domain (the next-hop domain without a relayhost): what follows the
         * last {@code @}, lowercased, if it is a host name ({@link Domain}); empty otherwise,
         * and then the session counts for nobody (an address literal, or a domain made up to
         * confuse the log).
         */
        public Optional<Domain> domain() {
            int at = recipient.lastIndexOf('@');
            try {
                return Optional.of(Domain.parse(recipient.substring(at + 1)));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
    }

    /** {@code QUEUEID: from=<SENDER>, size=…} from the queue manager. */
    record QueuedFrom(String queueId, String sender) implements SmtpLogEvent {
    }
}
