package org.tlspolicy.tlsrpt.datagram;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.ResultType;

import java.util.List;

/**
 * One delivery request as Postfix 3.10+ reports it through libtlsrpt: a JSON datagram on an
 * AF_UNIX datagram socket, {@code {"d": DOMAIN, "pr": TLSRPT-RECORD, "policies": [{
 * "policy-type": 1|2|9, "policy-domain", "policy-string": […], "mx-host": […],
 * "failure-details": [{"c": CODE, "s", "n", "h", "r", "a", "f"}…], "t": FAILURES, "f": 0|1
 * }…]}} (the libtlsrpt/tlsrpt-reporter protocol; policy types 1 tlsa, 2 sts, 9 none; failure
 * codes 201–205, 301–306 as RFC 8460's result types).
 *
 * @param domain       the recipient domain ({@code d})
 * @param policyRecord the domain's TLSRPT record as Postfix found it ({@code pr}), or ""
 * @param policies     the policies the request was held to, with their outcomes
 */
public record TlsrptDatagram(String domain, String policyRecord, List<Outcome> policies) {

    public TlsrptDatagram {
        policies = List.copyOf(policies);
    }

    /**
     * @param policy   the policy ({@code policy-type}, {@code policy-domain}, strings, MX)
     * @param success  {@code f} = 0
     * @param failures the {@code failure-details}
     */
    public record Outcome(AppliedPolicy policy, boolean success, List<Failure> failures) {

        public Outcome {
            failures = List.copyOf(failures);
        }
    }

    /**
     * One {@code failure-details} entry; absent fields are "".
     *
     * @param mxHelo the receiving MX's EHLO response as Postfix sends it: the whole multi-line
     *               reply ({@code 250-NAME\r\n250-PIPELINING…}), not only the name
     */
    public record Failure(ResultType type, String sendingIp, String mxHost, String mxHelo,
                          String mxIp, String additional, String reasonCode) {

        /**
         * The name the MX gave in its EHLO reply (RFC 8460 §4.4 receiving-mx-helo): the first
         * word after the code of the reply's first line, or "" if there is none.
         */
        public String ehloName() {
            String first = mxHelo.lines().findFirst().orElse("");
            if (first.length() < 5 || !first.substring(0, 3).chars().allMatch(c -> c >= '0'
                    && c <= '9') || (first.charAt(3) != '-' && first.charAt(3) != ' ')) {
                return "";
            }
            String[] words = first.substring(4).strip().split("\\s+", 2);
            return words[0];
        }
    }
}
