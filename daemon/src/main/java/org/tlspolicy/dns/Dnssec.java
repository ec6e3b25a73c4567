package org.tlspolicy.dns;

/**
 * A DNS answer as DNSSEC classifies it (RFC 4033 §5, RFC 4035 §4.3), which is what DANE
 * decides on (RFC 7672 §2.1): only a secure answer may turn DANE on, an insecure one turns it
 * off, and a bogus or indeterminate one leaves the question open, so mail must wait.
 */
public sealed interface Dnssec {

    /** The word for logs and {@code query}: secure, insecure, bogus or indeterminate. */
    String status();

    /** An answer the DNS gave (secure or insecure), as opposed to no usable answer. */
    sealed interface Known extends Dnssec {
        DnsResult.Data data();
    }

    /** Validated from a trust anchor: records, or proven absence. */
    record Secure(DnsResult.Data data) implements Known {
        @Override
        public String status() {
            return "secure";
        }
    }

    /** Provably unsigned (or from a resolver that does not validate): trusted for nothing. */
    record Insecure(DnsResult.Data data) implements Known {
        @Override
        public String status() {
            return "insecure";
        }
    }

    /** Validation failed: forged, or a broken zone. */
    record Bogus(String reason) implements Dnssec {
        @Override
        public String status() {
            return "bogus";
        }
    }

    /** No usable answer at all (SERVFAIL, REFUSED, timeout, CNAME loop): security unknown. */
    record Indeterminate(String reason) implements Dnssec {
        @Override
        public String status() {
            return "indeterminate";
        }
    }

    /** Classifies a lookup's result. */
    public static Dnssec of(DnsResult result) {
        if (result instanceof DnsResult.Data data) {
            return data.authenticated() ? new Secure(data) : new Insecure(data);
        }
        if (result instanceof DnsResult.Bogus bogus) {
            return new Bogus(bogus.reason());
        }
        if (result instanceof DnsResult.Timeout timeout) {
            return new Indeterminate("timeout: " + timeout.reason());
        }
        return new Indeterminate(((DnsResult.Failure) result).reason());
    }
}
