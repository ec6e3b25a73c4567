package org.tlspolicy.tlsrpt.report;

import java.util.List;

/**
 * The policy a domain's sessions were held to, as the report's {@code policy} object names it
 * (RFC 8460 §4.4): its type, its text ({@code policy-string}: the MTA-STS policy's lines, or
 * the TLSA records in presentation form), the policy domain and the MX host patterns it lists.
 */
public record AppliedPolicy(PolicyType type, String domain, List<String> strings,
                            List<String> mxHosts) {

    public AppliedPolicy {
        strings = List.copyOf(strings);
        mxHosts = List.copyOf(mxHosts);
    }

    /** No policy for {@code domain}: opportunistic TLS. */
    public static AppliedPolicy none(String domain) {
        return new AppliedPolicy(PolicyType.NO_POLICY_FOUND, domain, List.of(), List.of());
    }

    /** An MTA-STS policy in mode {@code testing}: failures are reported, mail still goes. */
    public boolean testing() {
        return type == PolicyType.STS && strings.stream()
                .anyMatch(s -> s.replace(" ", "").equalsIgnoreCase("mode:testing"));
    }
}
