package org.tlspolicy.tlsrpt.received;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import org.tlspolicy.smtp.Domain;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Reads an RFC 8460 §4.4 report, gzip-compressed or not, within {@link ReportLimits}: a
 * decompressed size bound (gzip bombs), nesting depth and string length (Jackson's stream
 * constraints), duplicate keys refused (which value would count?), counts that must be
 * non-negative integers, dates that must be RFC 3339, a {@code policy-domain} that must be a
 * host name. Fields the RFC does not define are skipped (the raw report keeps them); the
 * shapes seen in the wild are taken: {@code mx-host} as a string or an array, a {@code
 * policy-string} holding JSON (Microsoft's TLSA policies).
 */
public final class ReportJson {

    /** RFC 8460 §4.3 result types are words of letters, digits and hyphens. */
    private static final Pattern RESULT_TYPE = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

    private static final Set<String> POLICY_TYPES = Set.of("sts", "tlsa", "no-policy-found");

    /** Larger than any count a day's report can hold; refuses nonsense. */
    private static final long MAX_COUNT = 1L << 50;

    private final ReportLimits limits;
    private final JsonFactory json;

    public ReportJson(ReportLimits limits) {
        this.limits = limits;
        this.json = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxDepth())
                        .maxStringLength(limits.maxString())
                        .maxNumberLength(20)
                        .maxDocumentLength(limits.maxJson())
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    /** The JSON of {@code report}: gunzipped if it is gzip, as it is if it is JSON. */
    public byte[] decompress(byte[] report) throws ReportRejected {
        if (report.length > limits.maxCompressed()) {
            throw new ReportRejected("report of " + report.length + " bytes is over "
                    + limits.maxCompressed());
        }
        if (report.length >= 2 && (report[0] & 0xff) == 0x1f && (report[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(report))) {
                byte[] out = in.readNBytes(limits.maxJson() + 1);
                if (out.length > limits.maxJson()) {
                    throw new ReportRejected("report decompresses to over " + limits.maxJson()
                            + " bytes (a gzip bomb?)");
                }
                return out;
            } catch (IOException e) {
                throw new ReportRejected("not valid gzip: " + e.getMessage());
            }
        }
        if (report.length > limits.maxJson()) {
            throw new ReportRejected("report of " + report.length + " bytes is over "
                    + limits.maxJson());
        }
        return report;
    }

    /** The report in {@code report} (gzip or JSON bytes). */
    public ReceivedReport parse(byte[] report) throws ReportRejected {
        byte[] text = decompress(report);
        try (JsonParser p = json.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ReportRejected("not a JSON object");
            }
            ReceivedReport r = report(p);
            if (p.nextToken() != null) {
                throw new ReportRejected("data after the report's object");
            }
            return r;
        } catch (JsonProcessingException e) {
            throw new ReportRejected("bad JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ReportRejected("unreadable: " + e.getMessage());
        }
    }

    private ReceivedReport report(JsonParser p) throws IOException, ReportRejected {
        String organization = null;
        String reportId = null;
        String contact = "";
        Instant[] range = null;
        List<ReceivedReport.Policy> policies = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            switch (name) {
                case "organization-name" -> organization = string(p, t, name);
                case "report-id" -> reportId = string(p, t, name);
                case "contact-info" -> contact = string(p, t, name);
                case "date-range" -> range = dateRange(p, t);
                case "policies" -> policies = policies(p, t);
                default -> p.skipChildren();
            }
        }
        if (reportId == null || reportId.isBlank()) {
            throw new ReportRejected("no report-id");
        }
        if (organization == null || organization.isBlank()) {
            throw new ReportRejected("no organization-name");
        }
        if (range == null) {
            throw new ReportRejected("no date-range");
        }
        if (policies == null) {
            throw new ReportRejected("no policies");
        }
        return new ReceivedReport(organization, reportId, range[0], range[1], contact,
                policies);
    }

    private Instant[] dateRange(JsonParser p, JsonToken t) throws IOException, ReportRejected {
        expect(t, JsonToken.START_OBJECT, "date-range");
        Instant start = null;
        Instant end = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            switch (name) {
                case "start-datetime" -> start = time(string(p, v, name), name);
                case "end-datetime" -> end = time(string(p, v, name), name);
                default -> p.skipChildren();
            }
        }
        if (start == null || end == null) {
            throw new ReportRejected("date-range without start-datetime or end-datetime");
        }
        if (end.isBefore(start)) {
            throw new ReportRejected("date-range ends before it starts");
        }
        return new Instant[] {start, end};
    }

    /** RFC 3339 §5.6 date-time ("T" and "Z" in either case). */
    static Instant time(String s, String field) throws ReportRejected {
        try {
            return OffsetDateTime.parse(s.toUpperCase(Locale.ROOT)).toInstant();
        } catch (DateTimeParseException e) {
            throw new ReportRejected(field + " '" + clip(s) + "' is not an RFC 3339 date-time");
        }
    }

    private List<ReceivedReport.Policy> policies(JsonParser p, JsonToken t)
            throws IOException, ReportRejected {
        expect(t, JsonToken.START_ARRAY, "policies");
        List<ReceivedReport.Policy> out = new ArrayList<>();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
            if (out.size() >= limits.maxPolicies()) {
                throw new ReportRejected("more than " + limits.maxPolicies() + " policies");
            }
            expect(e, JsonToken.START_OBJECT, "policies[]");
            out.add(policyEntry(p));
        }
        return out;
    }

    private ReceivedReport.Policy policyEntry(JsonParser p) throws IOException, ReportRejected {
        String type = null;
        String domain = null;
        List<String> strings = List.of();
        List<String> mx = List.of();
        Long successful = null;
        Long failed = null;
        List<ReceivedReport.Failure> failures = List.of();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            switch (name) {
                case "policy" -> {
                    expect(t, JsonToken.START_OBJECT, "policy");
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        JsonToken v = p.nextToken();
                        switch (f) {
                            case "policy-type" -> type = string(p, v, f);
                            case "policy-domain" -> domain = string(p, v, f);
                            case "policy-string" -> strings = strings(p, v, f);
                            case "mx-host" -> mx = strings(p, v, f);
                            default -> p.skipChildren();
                        }
                    }
                }
                case "summary" -> {
                    expect(t, JsonToken.START_OBJECT, "summary");
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        JsonToken v = p.nextToken();
                        switch (f) {
                            case "total-successful-session-count" -> successful = count(p, v, f);
                            case "total-failure-session-count" -> failed = count(p, v, f);
                            default -> p.skipChildren();
                        }
                    }
                }
                case "failure-details" -> failures = failures(p, t);
                default -> p.skipChildren();
            }
        }
        if (type == null || !POLICY_TYPES.contains(type)) {
            throw new ReportRejected("policy-type " + (type == null ? "missing" : "'" + clip(type)
                    + "'") + ": one of sts, tlsa, no-policy-found");
        }
        if (domain == null) {
            throw new ReportRejected("a policy without policy-domain");
        }
        String host;
        try {
            host = Domain.parse(domain).name();
        } catch (IllegalArgumentException e) {
            throw new ReportRejected("policy-domain '" + clip(domain) + "': " + e.getMessage());
        }
        if (successful == null || failed == null) {
            throw new ReportRejected("a policy without its summary counts");
        }
        return new ReceivedReport.Policy(type, host, strings, mx, successful, failed, failures);
    }

    private List<ReceivedReport.Failure> failures(JsonParser p, JsonToken t)
            throws IOException, ReportRejected {
        expect(t, JsonToken.START_ARRAY, "failure-details");
        List<ReceivedReport.Failure> out = new ArrayList<>();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
            if (out.size() >= limits.maxFailures()) {
                throw new ReportRejected("more than " + limits.maxFailures()
                        + " failure-details in a policy");
            }
            expect(e, JsonToken.START_OBJECT, "failure-details[]");
            String result = null;
            String[] f = {"", "", "", "", "", ""};
            Long count = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                switch (name) {
                    case "result-type" -> result = string(p, v, name);
                    case "sending-mta-ip" -> f[0] = string(p, v, name);
                    case "receiving-mx-hostname" -> f[1] = string(p, v, name);
                    case "receiving-mx-helo" -> f[2] = string(p, v, name);
                    case "receiving-ip" -> f[3] = string(p, v, name);
                    case "failed-session-count" -> count = count(p, v, name);
                    case "additional-information" -> f[4] = string(p, v, name);
                    case "failure-reason-code" -> f[5] = string(p, v, name);
                    default -> p.skipChildren();
                }
            }
            if (result == null || !RESULT_TYPE.matcher(result).matches()) {
                throw new ReportRejected("result-type " + (result == null ? "missing"
                        : "'" + clip(result) + "'"));
            }
            if (count == null) {
                throw new ReportRejected("failure-details without failed-session-count");
            }
            out.add(new ReceivedReport.Failure(result, f[0], f[1], f[2], f[3], count, f[4],
                    f[5]));
        }
        return out;
    }

    private static String string(JsonParser p, JsonToken t, String field)
            throws IOException, ReportRejected {
        if (t != JsonToken.VALUE_STRING) {
            throw new ReportRejected(field + " is not a string");
        }
        return p.getText();
    }

    /** A string array, or one string where the wild sends one (mx-host). */
    private static List<String> strings(JsonParser p, JsonToken t, String field)
            throws IOException, ReportRejected {
        if (t == JsonToken.VALUE_STRING) {
            return List.of(p.getText());
        }
        expect(t, JsonToken.START_ARRAY, field);
        List<String> out = new ArrayList<>();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
            out.add(string(p, e, field + "[]"));
        }
        return out;
    }

    private static long count(JsonParser p, JsonToken t, String field)
            throws IOException, ReportRejected {
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType
                .BIG_INTEGER) {
            throw new ReportRejected(field + " is not a whole number");
        }
        long n = p.getLongValue();
        if (n < 0 || n > MAX_COUNT) {
            throw new ReportRejected(field + " " + n + " is not a count");
        }
        return n;
    }

    private static void expect(JsonToken t, JsonToken want, String field)
            throws ReportRejected {
        if (t != want) {
            throw new ReportRejected(field + " is not " + (want == JsonToken.START_OBJECT
                    ? "an object" : "an array"));
        }
    }

    private static String clip(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
