package org.tlspolicy.tlsrpt.report;

/**
 * The result types of RFC 8460 §4.3: why a TLS session with a receiving MX failed, as the
 * report names it ({@link #token()}).
 */
public enum ResultType {
    // RFC 8460 §4.3.1: negotiation failures
    STARTTLS_NOT_SUPPORTED("starttls-not-supported"),
    CERTIFICATE_HOST_MISMATCH("certificate-host-mismatch"),
    CERTIFICATE_EXPIRED("certificate-expired"),
    CERTIFICATE_NOT_TRUSTED("certificate-not-trusted"),
    VALIDATION_FAILURE("validation-failure"),
    // RFC 8460 §4.3.2.1: DANE
    TLSA_INVALID("tlsa-invalid"),
    DNSSEC_INVALID("dnssec-invalid"),
    DANE_REQUIRED("dane-required"),
    // RFC 8460 §4.3.2.2: MTA-STS
    STS_POLICY_FETCH_ERROR("sts-policy-fetch-error"),
    STS_POLICY_INVALID("sts-policy-invalid"),
    STS_WEBPKI_INVALID("sts-webpki-invalid");

    private final String token;

    ResultType(String token) {
        this.token = token;
    }

    /** The name in the report's {@code result-type}. */
    public String token() {
        return token;
    }

    /** The result type named {@code token}, or null. */
    public static ResultType fromToken(String token) {
        for (ResultType t : values()) {
            if (t.token.equals(token)) {
                return t;
            }
        }
        return null;
    }
}
