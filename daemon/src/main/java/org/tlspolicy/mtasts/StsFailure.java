package org.tlspolicy.mtasts;

import org.tlspolicy.tlsrpt.report.ResultType;

/**
 * Why a domain that publishes MTA-STS has no usable live policy, named by the RFC 8460 §4.3.2
 * result type that reports it. Each has the same consequence (RFC 8461 §3.3): a valid cached
 * policy stays in force; without one, mail goes out as if the domain had no MTA-STS.
 */
public enum StsFailure {

    /** The policy host could not be reached, or did not answer 200 with a text/plain body. */
    FETCH_ERROR(ResultType.STS_POLICY_FETCH_ERROR),

    /** The policy host's certificate failed PKIX validation or did not name the host. */
    WEBPKI_INVALID(ResultType.STS_WEBPKI_INVALID),

    /** The body was fetched but is not a valid policy (RFC 8461 §3.2). */
    POLICY_INVALID(ResultType.STS_POLICY_INVALID);

    private final ResultType type;

    StsFailure(ResultType type) {
        this.type = type;
    }

    /** The RFC 8460 result type. */
    public ResultType type() {
        return type;
    }

    /** Its name, also Postfix's {@code policy_failure} value. */
    public String resultType() {
        return type.token();
    }
}
