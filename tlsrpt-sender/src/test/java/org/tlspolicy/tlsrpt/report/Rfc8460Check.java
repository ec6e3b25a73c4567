package org.tlspolicy.tlsrpt.report;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A strict reading of an RFC 8460 report (§4.3, §4.4), at SHOULD level: what it says a report
 * MUST hold, and what it SHOULD hold where the sender knows it. Returns every problem found.
 */
public final class Rfc8460Check {

    private static final Set<String> TOP = Set.of("organization-name", "date-range",
            "contact-info", "report-id", "policies");
    private static final Set<String> POLICY_TYPES = Set.of("tlsa", "sts", "no-policy-found");
    private static final Set<String> DETAIL = Set.of("result-type", "sending-mta-ip",
            "receiving-mx-hostname", "receiving-mx-helo", "receiving-ip",
            "failed-session-count", "additional-information", "failure-reason-code");

    private Rfc8460Check() {
    }

    /** The problems of {@code json}, empty if none. */
    @SuppressWarnings("unchecked")
    public static List<String> problems(byte[] json) throws IOException {
        List<String> p = new ArrayList<>();
        Map<String, Object> r = ReportFromFixturesTest.read(json);
        for (String k : TOP) {
            if (!r.containsKey(k)) {
                p.add("missing " + k); // §4.4: all REQUIRED
            }
        }
        for (String k : r.keySet()) {
            if (!TOP.contains(k)) {
                p.add("unknown field " + k);
            }
        }
        Map<String, Object> range = (Map<String, Object>) r.getOrDefault("date-range", Map.of());
        Instant start = instant(range.get("start-datetime"), "start-datetime", p);
        Instant end = instant(range.get("end-datetime"), "end-datetime", p);
        if (start != null && end != null && !end.isAfter(start)) {
            p.add("date-range ends before it starts");
        }
        String contact = String.valueOf(r.get("contact-info"));
        if (!contact.contains("@") && !contact.startsWith("http")) {
            p.add("contact-info is neither an address nor a URI: " + contact); // §4.4 SHOULD
        }
        List<Map<String, Object>> policies = (List<Map<String, Object>>) r.getOrDefault(
                "policies", List.of());
        if (policies.isEmpty()) {
            p.add("no policies");
        }
        for (Map<String, Object> pol : policies) {
            Map<String, Object> policy = (Map<String, Object>) pol.get("policy");
            Map<String, Object> summary = (Map<String, Object>) pol.get("summary");
            if (policy == null || summary == null) {
                p.add("policy without policy or summary");
                continue;
            }
            String type = String.valueOf(policy.get("policy-type"));
            if (!POLICY_TYPES.contains(type)) {
                p.add("policy-type " + type);
            }
            if (!(policy.get("policy-domain") instanceof String)) {
                p.add("missing policy-domain");
            }
            // §4.4: policy-string SHOULD be there for sts and tlsa; mx-host for sts.
            if (!type.equals("no-policy-found") && !(policy.get("policy-string")
                    instanceof List<?> l && !l.isEmpty())) {
                p.add(type + " policy without policy-string");
            }
            if (type.equals("sts") && !(policy.get("mx-host") instanceof List<?> l
                    && !l.isEmpty())) {
                p.add("sts policy without mx-host");
            }
            long ok = number(summary.get("total-successful-session-count"),
                    "total-successful-session-count", p);
            long failed = number(summary.get("total-failure-session-count"),
                    "total-failure-session-count", p);
            if (ok + failed == 0) {
                p.add("a policy with no sessions");
            }
            long detailed = 0;
            for (Map<String, Object> d : (List<Map<String, Object>>) pol.getOrDefault(
                    "failure-details", List.of())) {
                for (String k : d.keySet()) {
                    if (!DETAIL.contains(k)) {
                        p.add("unknown failure-details field " + k);
                    }
                }
                String rt = String.valueOf(d.get("result-type"));
                if (ResultType.fromToken(rt) == null) {
                    p.add("result-type " + rt);
                }
                detailed += number(d.get("failed-session-count"), "failed-session-count", p);
                // §4.4: receiving-ip and receiving-mx-hostname SHOULD be given when known;
                // a failure before any connection (dnssec-invalid, dane-required) has none.
                if (!Set.of("dnssec-invalid", "dane-required", "sts-policy-fetch-error",
                        "sts-policy-invalid", "sts-webpki-invalid").contains(rt)) {
                    if (!(d.get("receiving-ip") instanceof String ip) || ip.isEmpty()) {
                        p.add(rt + " without receiving-ip");
                    }
                    if (!(d.get("receiving-mx-hostname") instanceof String h) || h.isEmpty()) {
                        p.add(rt + " without receiving-mx-hostname");
                    }
                }
                if (d.get("additional-information") instanceof String info) {
                    try {
                        if (new URI(info).getScheme() == null) {
                            p.add("additional-information is not a URI: " + info);
                        }
                    } catch (URISyntaxException e) {
                        p.add("additional-information is not a URI: " + info);
                    }
                }
            }
            if (detailed > failed) {
                p.add("failure-details count " + detailed + " more failures than the summary's "
                        + failed);
            }
        }
        return p;
    }

    private static Instant instant(Object v, String field, List<String> p) {
        if (!(v instanceof String s)) {
            p.add("missing " + field);
            return null;
        }
        try {
            return Instant.parse(s); // RFC 3339, UTC ("Z")
        } catch (DateTimeParseException e) {
            p.add(field + " is not an RFC 3339 UTC date-time: " + s);
            return null;
        }
    }

    private static long number(Object v, String field, List<String> p) {
        if (v instanceof Long n && n >= 0) {
            return n;
        }
        p.add(field + " is not a count: " + v);
        return 0;
    }
}
