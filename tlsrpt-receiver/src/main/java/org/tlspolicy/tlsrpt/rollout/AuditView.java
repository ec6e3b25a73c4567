package org.tlspolicy.tlsrpt.rollout;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One domain of {@code tlspolicyd audit --json} (docs/audit.md, version 1), as far as the
 * rollout needs it: the policy served and every finding.
 *
 * @param domain   the domain audited
 * @param level    ok, warn or fail
 * @param policy   the MTA-STS policy served, if any
 * @param findings every finding, in the audit's order
 */
public record AuditView(String domain, String level, Optional<Policy> policy,
                        List<Finding> findings) {

    public AuditView {
        findings = List.copyOf(findings);
    }

    /** The policy served: the id of its TXT record, mode, max_age and mx patterns. */
    public record Policy(String id, String mode, long maxAge, List<String> mx) {
        public Policy {
            mx = List.copyOf(mx);
        }
    }

    /** A finding: see tlspolicyd's audit Finding. */
    public record Finding(String check, String subject, String level, String found,
                          String advice, String result, String host) {
    }

    /** The failures of the audit. */
    public List<Finding> failures() {
        return findings.stream().filter(f -> f.level().equals("fail")).toList();
    }

    /** The audit of {@code domain} in {@code json}, the whole output of the command. */
    public static AuditView parse(String json, String domain) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("audit output is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (name.equals("version") && p.getIntValue() != 1) {
                    throw new IOException("audit output version " + p.getText() + ", not 1");
                }
                if (!name.equals("domains")) {
                    p.skipChildren();
                    continue;
                }
                if (t != JsonToken.START_ARRAY) {
                    throw new IOException("domains is not an array");
                }
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    AuditView v = domain(p);
                    if (v.domain().equals(domain)) {
                        return v;
                    }
                }
            }
        }
        throw new IOException("the audit output has no domain " + domain);
    }

    private static AuditView domain(JsonParser p) throws IOException {
        String domain = "";
        String level = "";
        Optional<Policy> policy = Optional.empty();
        List<Finding> findings = new ArrayList<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            switch (name) {
                case "domain" -> domain = p.getText();
                case "level" -> level = p.getText();
                case "policy" -> policy = t == JsonToken.START_OBJECT ? Optional.of(policy(p))
                        : Optional.empty();
                case "findings" -> {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        findings.add(finding(p));
                    }
                }
                default -> p.skipChildren();
            }
        }
        return new AuditView(domain, level, policy, findings);
    }

    private static Policy policy(JsonParser p) throws IOException {
        String id = "";
        String mode = "";
        long maxAge = 0;
        List<String> mx = new ArrayList<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            switch (name) {
                case "id" -> id = p.getText();
                case "mode" -> mode = p.getText();
                case "max_age" -> maxAge = p.getLongValue();
                case "mx" -> {
                    while (p.nextToken() == JsonToken.VALUE_STRING) {
                        mx.add(p.getText());
                    }
                }
                default -> p.skipChildren();
            }
        }
        return new Policy(id, mode, maxAge, mx);
    }

    private static Finding finding(JsonParser p) throws IOException {
        String[] f = {"", "", "", "", "", "", ""};
        List<String> names = List.of("check", "subject", "level", "found", "advice", "result",
                "host");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            int i = names.indexOf(name);
            if (i >= 0) {
                f[i] = p.getText();
            } else {
                p.skipChildren();
            }
        }
        return new Finding(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
    }
}
