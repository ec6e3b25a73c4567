package org.tlspolicy.policy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A test model of how Postfix's smtp(8) parses a TLS policy table value (smtp_tls_policy.c,
 * {@code tls_policy_lookup_one}), for properties over every reply shape the decisions make:
 * tokens split at spaces and commas, {@code { name = value }} kept whole; the level first;
 * then attributes, each known by name and checked as Postfix checks it. Returns the warning
 * Postfix would log (and defer the mail with "client TLS configuration problem"), or empty.
 *
 * <p>A model, not the authority: the end-to-end suite asserts acceptance from a real Postfix
 * 3.7 and 3.10's own logs. It keeps the property tests fast and broad (random policies).
 */
public final class PostfixPolicyRules {

    /** Postfix 3.7's attributes (TLS_README, "TLS policy table"); 3.10 adds the TLSRPT ones. */
    private static final Set<String> BASE = Set.of("ciphers", "protocols", "servername", "match",
            "exclude", "tafile", "connection_reuse", "enable_rpk");
    private static final Set<String> TLSRPT = Set.of("policy_ttl", "policy_type",
            "policy_domain", "policy_string", "mx_host_pattern", "policy_failure");
    // tlsrpt_wrapper.c: tlsrpt_policy_type_mapping and tlsrpt_policy_failure_mapping.
    private static final Set<String> POLICY_TYPES = Set.of("sts", "no-policy-found");
    private static final Set<String> POLICY_FAILURES = Set.of("sts-policy-fetch-error",
            "sts-policy-invalid", "sts-webpki-invalid", "validation-failure");
    private static final Set<String> LEVELS = Set.of("none", "may", "encrypt", "dane",
            "dane-only", "fingerprint", "verify", "secure");
    private static final Set<String> ONCE = Set.of("ciphers", "protocols", "servername",
            "exclude", "policy_ttl", "policy_type", "policy_domain", "policy_failure");

    private PostfixPolicyRules() {
    }

    /** Postfix 3.10's verdict on {@code value}: the warning it would log, or empty. */
    public static Optional<String> postfix310(String value) {
        return check(value, true);
    }

    /** Postfix 3.7's verdict (no TLSRPT attributes known). */
    public static Optional<String> postfix37(String value) {
        return check(value, false);
    }

    private static Optional<String> check(String value, boolean tlsrpt) {
        List<String> tokens;
        try {
            tokens = tokens(value);
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
        if (tokens.isEmpty()) {
            return Optional.of("invalid empty policy");
        }
        String level = tokens.get(0);
        if (!LEVELS.contains(level.toLowerCase(Locale.ROOT))) {
            return Optional.of("invalid security level \"" + level + "\"");
        }
        Set<String> seen = new HashSet<>();
        boolean type = false;
        boolean ext = false;
        for (String tok : tokens.subList(1, tokens.size())) {
            String nv = tok;
            if (tok.startsWith("{")) {
                if (!tok.endsWith("}")) {
                    return Optional.of("malformed attribute/value pair \"" + tok + "\"");
                }
                nv = tok.substring(1, tok.length() - 1).strip().replaceAll("\\s+", " ");
            }
            int eq = nv.indexOf('=');
            if (eq <= 0) {
                return Optional.of("malformed attribute/value pair \"" + tok + "\"");
            }
            String name = nv.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String val = nv.substring(eq + 1).strip();
            boolean known = BASE.contains(name) || (tlsrpt && TLSRPT.contains(name));
            if (!known) {
                return Optional.of("invalid attribute name: \"" + name + "\"");
            }
            if (ONCE.contains(name) && !seen.add(name)) {
                return Optional.of("attribute \"" + name + "\" is specified multiple times");
            }
            switch (name) {
                case "match" -> {
                    if (val.isEmpty()) {
                        return Optional.of("attribute \"match\" has empty value");
                    }
                    if (!level.equals("secure") && !level.equals("verify")
                            && !level.equals("fingerprint")) {
                        return Optional.of("attribute \"match\" invalid at security level \""
                                + level + "\"");
                    }
                }
                case "servername" -> {
                    if (!val.equals("hostname") && !hostname(val)) {
                        return Optional.of("\"servername=" + val + "\" specifies an invalid "
                                + "hostname");
                    }
                }
                case "policy_type" -> {
                    if (!POLICY_TYPES.contains(val)) {
                        return Optional.of("attribute \"policy_type\" has an unexpected value: \""
                                + val + "\"");
                    }
                    type = true;
                }
                case "policy_failure" -> {
                    if (!POLICY_FAILURES.contains(val)) {
                        return Optional.of("attribute \"policy_failure\" has an unexpected "
                                + "value: \"" + val + "\"");
                    }
                    ext = true;
                }
                case "policy_domain" -> {
                    if (!hostname(val)) {
                        return Optional.of("attribute \"policy_domain\" has a malformed value: \""
                                + val + "\"");
                    }
                    ext = true;
                }
                case "policy_string", "mx_host_pattern", "policy_ttl" -> ext = true;
                default -> { }
            }
        }
        if (ext && !type) {
            return Optional.of("built-in policy has unexpected attribute policy_ttl, "
                    + "policy_domain, policy_string, mx_host_pattern or policy_failure");
        }
        return Optional.empty();
    }

    /** mystrtokq(CHARS_COMMA_SP, CHARS_BRACE): braces group, spaces and commas separate. */
    private static List<String> tokens(String value) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = value.length();
        while (i < n) {
            char c = value.charAt(i);
            if (c == ' ' || c == ',' || c == '\t' || c == '\r' || c == '\n') {
                i++;
                continue;
            }
            int start = i;
            int depth = 0;
            while (i < n) {
                c = value.charAt(i);
                if (c == '{') {
                    depth++;
                } else if (c == '}') {
                    depth--;
                    if (depth < 0) {
                        throw new IllegalArgumentException("unbalanced '}' in \"" + value + "\"");
                    }
                } else if (depth == 0 && (c == ' ' || c == ',' || c == '\t' || c == '\r'
                        || c == '\n')) {
                    break;
                }
                i++;
            }
            if (depth != 0) {
                throw new IllegalArgumentException("unbalanced '{' in \"" + value + "\"");
            }
            out.add(value.substring(start, i));
        }
        return out;
    }

    /** valid_hostname(): dot-separated labels of letters, digits, '-' and '_', ≤ 255 bytes. */
    private static boolean hostname(String s) {
        if (s.isEmpty() || s.length() > 255 || s.startsWith(".") || s.endsWith(".")
                || s.contains("..")) {
            return false;
        }
        for (String label : s.split("\\.")) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-")
                    || label.endsWith("-")) {
                return false;
            }
            for (char c : label.toCharArray()) {
                if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_') {
                    return false;
                }
            }
        }
        return true;
    }
}
