package org.tlspolicy.tlsrpt.policy;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the policy out of a tlspolicyd reply to map {@code tlsrpt}: a Postfix policy with the
 * TLSRPT attributes of Postfix 3.10 ({@code policy_type=sts policy_domain=D mx_host_pattern=P
 * { policy_string = LINE } …}). Everything but those attributes (level, {@code match=},
 * {@code servername=}) is skipped.
 */
public final class PolicyReply {

    private PolicyReply() {
    }

    /**
     * The policy in {@code reply} (the socketmap payload after {@code OK }), or empty if it
     * names none or is malformed (an unclosed brace, an unknown type, no domain).
     */
    public static Optional<AppliedPolicy> parse(String reply) {
        String type = null;
        String domain = null;
        List<String> strings = new ArrayList<>();
        List<String> mx = new ArrayList<>();
        int i = 0;
        int n = reply.length();
        while (i < n) {
            char c = reply.charAt(i);
            if (c == ' ') {
                i++;
                continue;
            }
            if (c == '{') {
                int close = reply.indexOf('}', i);
                if (close < 0) {
                    return Optional.empty();
                }
                String inner = reply.substring(i + 1, close).strip();
                int eq = inner.indexOf('=');
                if (eq < 0) {
                    return Optional.empty();
                }
                String name = inner.substring(0, eq).strip();
                String value = inner.substring(eq + 1).strip();
                if (name.equals("policy_string")) {
                    strings.add(value);
                }
                i = close + 1;
                continue;
            }
            int end = reply.indexOf(' ', i);
            if (end < 0) {
                end = n;
            }
            String token = reply.substring(i, end);
            int eq = token.indexOf('=');
            if (eq > 0) {
                String name = token.substring(0, eq);
                String value = token.substring(eq + 1);
                switch (name) {
                    case "policy_type" -> type = value;
                    case "policy_domain" -> domain = value;
                    case "mx_host_pattern" -> mx.add(value);
                    default -> { }
                }
            }
            i = end;
        }
        PolicyType t = type == null ? null : PolicyType.fromToken(type);
        if (t == null || t == PolicyType.NO_POLICY_FOUND || domain == null || domain.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new AppliedPolicy(t, domain, strings, mx));
    }
}
