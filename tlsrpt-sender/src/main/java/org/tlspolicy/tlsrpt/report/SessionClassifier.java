package org.tlspolicy.tlsrpt.report;

import org.tlspolicy.tlsrpt.postfixlog.SessionFacts;
import org.tlspolicy.tlsrpt.postfixlog.SmtpLogEvent.Trust;

import java.util.Optional;

/**
 * Decides how a session counts under the policy it was held to (RFC 8460 §4.3): what Postfix
 * logged ({@link SessionFacts}) becomes a success or one result type.
 *
 * <ul>
 * <li>MTA-STS enforce and DANE: Postfix enforced the policy itself, so a session succeeded
 *     exactly when Postfix verified the peer ({@code Verified TLS connection}); its own reason
 *     names the failure.
 * <li>MTA-STS testing: tlspolicyd answers such domains with Postfix's own level, which does
 *     not check names; a verified or trusted chain counts as success, an untrusted one as
 *     {@code certificate-not-trusted}. A name mismatch under testing is not visible in
 *     Postfix 3.7's log and so is not reported.
 * <li>No policy: any negotiated TLS is a success.
 * <li>Everywhere: no STARTTLS is {@code starttls-not-supported}; a failed TLS handshake is
 *     {@code validation-failure} ("tls-handshake-failure", as Postfix 3.10's own TLSRPT); a
 *     DNSSEC failure in the policy lookup is {@code dnssec-invalid}; dane-only mail Postfix
 *     could not try for want of DNSSEC or TLSA records is {@code dane-required} (RFC 8460
 *     §4.3.2.1), for a failed TLSA lookup {@code dnssec-invalid}. A policy lookup that failed for want of a policy
 *     server, or for DNS trouble other than DNSSEC, is not counted: the receiving domain did
 *     nothing wrong and nothing was tried.
 * </ul>
 */
public final class SessionClassifier {

    private SessionClassifier() {
    }

    /** How {@code facts} count under {@code policy}; empty if they do not count at all. */
    public static Optional<SessionResult> classify(SessionFacts facts, AppliedPolicy policy) {
        if (facts instanceof SessionFacts.StarttlsNotOffered n) {
            return Optional.of(new SessionResult.Failure(ResultType.STARTTLS_NOT_SUPPORTED,
                    n.delivered() ? "STARTTLS not offered; delivered in the clear"
                            : "STARTTLS not offered"));
        }
        if (facts instanceof SessionFacts.HandshakeFailed h) {
            // As Postfix 3.10's own TLSRPT: validation-failure, "tls-handshake-failure".
            return Optional.of(new SessionResult.Failure(ResultType.VALIDATION_FAILURE,
                    "tls-handshake-failure: " + h.reason()));
        }
        if (facts instanceof SessionFacts.DaneUnavailable d) {
            return Optional.of(new SessionResult.Failure(daneUnavailable(d.reason()),
                    d.reason()));
        }
        if (facts instanceof SessionFacts.PolicyLookupFailed f) {
            // RFC 8460 §4.3.2.1: dnssec-invalid, no valid records from the resolver.
            if (f.serverReason() != null && f.serverReason().startsWith("DNSSEC")) {
                return Optional.of(new SessionResult.Failure(ResultType.DNSSEC_INVALID,
                        f.serverReason()));
            }
            return Optional.empty();
        }
        SessionFacts.Negotiated n = (SessionFacts.Negotiated) facts;
        boolean success = switch (policy.type()) {
            case NO_POLICY_FOUND -> true;
            case STS -> policy.testing()
                    ? n.trust() == Trust.VERIFIED || n.trust() == Trust.TRUSTED
                    : n.trust() == Trust.VERIFIED && !n.refused();
            case TLSA -> n.trust() == Trust.VERIFIED && !n.refused();
        };
        if (success) {
            return Optional.of(new SessionResult.Success());
        }
        String why = n.verificationFailure();
        if (why == null) {
            // Postfix said only how far it trusted the peer. A trusted chain that did not
            // satisfy the policy failed on the name (as Postfix 3.10's own TLSRPT reports it,
            // smtp_proto.c): certificate-host-mismatch, never certificate-not-trusted.
            ResultType type = n.trust() == Trust.TRUSTED ? ResultType.CERTIFICATE_HOST_MISMATCH
                    : policy.type() == PolicyType.TLSA ? ResultType.VALIDATION_FAILURE
                    : ResultType.CERTIFICATE_NOT_TRUSTED;
            return Optional.of(new SessionResult.Failure(type,
                    n.trust().name().toLowerCase(java.util.Locale.ROOT) + " TLS connection"));
        }
        return Optional.of(new SessionResult.Failure(resultType(why), why));
    }

    /**
     * RFC 8460 §4.3.2.1 for dane-only mail Postfix could not even try: no TLSA records, or no
     * DNSSEC, where DANE was required ({@code dane-required}); a TLSA lookup that failed
     * ({@code dnssec-invalid}: no valid records from the resolver); records none of which is
     * usable ({@code tlsa-invalid}).
     */
    static ResultType daneUnavailable(String reason) {
        if (reason.startsWith("TLSA lookup error")) {
            return ResultType.DNSSEC_INVALID;
        }
        if (reason.startsWith("TLSA records unusable")) {
            return ResultType.TLSA_INVALID;
        }
        return ResultType.DANE_REQUIRED;
    }

    /**
     * The result type of Postfix's certificate verification reason: OpenSSL's verify error
     * text, with its number ({@code num=N:}) when Postfix wrote one.
     */
    static ResultType resultType(String reason) {
        String r = reason.toLowerCase(java.util.Locale.ROOT);
        // tls_verify.c: "external policy failure (TYPE)", the policy_failure the policy map
        // gave (RFC 8460 types such as sts-webpki-invalid): the type is the map's.
        String external = "external policy failure (";
        int at = r.indexOf(external);
        if (at >= 0 && r.indexOf(')', at) > 0) {
            ResultType t = ResultType.fromToken(r.substring(at + external.length(),
                    r.indexOf(')', at)));
            if (t != null) {
                return t;
            }
        }
        if (r.contains("hostname mismatch")) {
            return ResultType.CERTIFICATE_HOST_MISMATCH;
        }
        if (r.contains("has expired")) {
            return ResultType.CERTIFICATE_EXPIRED;
        }
        if (r.contains("not yet valid")) {
            // RFC 8460 §4.3.1: not "certificate-expired"; Postfix 3.10 says validation-failure.
            return ResultType.VALIDATION_FAILURE;
        }
        if (r.contains("dane tlsa") || r.contains("tlsa record")) {
            // RFC 8460 §4.3.2.1: none of the TLSA records matched.
            return ResultType.TLSA_INVALID;
        }
        if (r.contains("self-signed") || r.contains("self signed") || r.contains("issuer")
                || r.contains("not trusted") || r.contains("untrusted")) {
            return ResultType.CERTIFICATE_NOT_TRUSTED;
        }
        return ResultType.VALIDATION_FAILURE;
    }
}
