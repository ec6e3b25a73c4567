package org.tlspolicy.tlsrpt.report;

/** RFC 8460 §4.4 {@code policy-type}: which policy a session was held to. */
public enum PolicyType {
    /** MTA-STS (RFC 8461). */
    STS("sts"),
    /** DANE TLSA records (RFC 7672). */
    TLSA("tlsa"),
    /** Neither: opportunistic TLS. */
    NO_POLICY_FOUND("no-policy-found");

    private final String token;

    PolicyType(String token) {
        this.token = token;
    }

    public String token() {
        return token;
    }

    /** The policy type named {@code token}, or null. */
    public static PolicyType fromToken(String token) {
        for (PolicyType t : values()) {
            if (t.token.equals(token)) {
                return t;
            }
        }
        return null;
    }
}
