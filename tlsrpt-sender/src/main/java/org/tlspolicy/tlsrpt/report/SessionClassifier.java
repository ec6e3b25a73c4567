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
 * <li>Everywhere: no STARTTLS is {@code starttls-not-supported}; a DNSSEC failure in the policy
 *     lookup is {@code dnssec-invalid}. A policy lookup that failed for want of a policy
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
                            : "TLS is required, but was not offered"));
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
            return Optional.of(new SessionResult.Failure(policy.type() == PolicyType.TLSA
                    ? ResultType.VALIDATION_FAILURE : ResultType.CERTIFICATE_NOT_TRUSTED,
                    n.trust().name().toLowerCase(java.util.Locale.ROOT) + " TLS connection"));
        }
        return Optional.of(new SessionResult.Failure(resultType(why), why));
    }

    /**
     * The result type of Postfix's certificate verification reason: OpenSSL's verify error
     * text, with its number ({@code num=N:}) when Postfix wrote one.
     */
    static ResultType resultType(String reason) {
        String r = reason.toLowerCase(java.util.Locale.ROOT);
        if (r.contains("hostname mismatch")) {
            return ResultType.CERTIFICATE_HOST_MISMATCH;
        }
        if (r.contains("has expired") || r.contains("not yet valid")) {
            return ResultType.CERTIFICATE_EXPIRED;
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
