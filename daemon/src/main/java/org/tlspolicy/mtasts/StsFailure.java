package org.tlspolicy.mtasts;

/**
 * Why a domain that publishes MTA-STS has no usable live policy, named by the RFC 8460 §4.3.2
 * result type that reports it. Each has the same consequence (RFC 8461 §3.3): a valid cached
 * policy stays in force; without one, mail goes out as if the domain had no MTA-STS.
 */
public enum StsFailure {

    /** The policy host could not be reached, or did not answer 200 with a text/plain body. */
    FETCH_ERROR("sts-policy-fetch-error"),

    /** The policy host's certificate failed PKIX validation or did not name the host. */
    WEBPKI_INVALID("sts-webpki-invalid"),

    /** The body was fetched but is not a valid policy (RFC 8461 §3.2). */
    POLICY_INVALID("sts-policy-invalid");

    private final String resultType;

    StsFailure(String resultType) {
        this.resultType = resultType;
    }

    /** The RFC 8460 result type, also Postfix's {@code policy_failure} value. */
    public String resultType() {
        return resultType;
    }
}
