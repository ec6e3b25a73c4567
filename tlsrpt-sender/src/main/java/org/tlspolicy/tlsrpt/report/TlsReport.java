package org.tlspolicy.tlsrpt.report;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.tlspolicy.tlsrpt.store.SessionCount;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * One RFC 8460 report: a report domain's sessions of one UTC day, as the JSON of §4.4, with a
 * report-id that is the same however often it is built (so a report sent again after a crash
 * is recognisably the same report). The report domain is the recipient domain whose TLSRPT
 * record names where the report goes; each policy in it names its own policy domain.
 *
 * @param reportDomain the domain reported to (RFC 8460 §5.3 TLS-Report-Domain)
 * @param day          the UTC day covered
 * @param reportId     {@code DAY_DOMAIN_HASH}: stable per submitter, domain and day
 * @param json         the report, UTF-8
 */
public record TlsReport(String reportDomain, LocalDate day, String reportId, byte[] json) {

    private static final JsonFactory JSON = new JsonFactory();

    /** Who reports: RFC 8460 §4.4 {@code organization-name}, {@code contact-info}, submitter. */
    public record Submitter(String organization, String contactInfo, String domain,
                            String sendingMtaIp) {
    }

    /** The report on {@code counts} (all of {@code reportDomain} and {@code day}). */
    public static TlsReport build(Submitter submitter, String reportDomain, LocalDate day,
                                  List<SessionCount> counts) {
        String reportId = reportId(submitter, reportDomain, day);
        // Policies in a stable order; per policy its successes and failure groups.
        Map<AppliedPolicy, long[]> summaries = new LinkedHashMap<>();
        Map<AppliedPolicy, Map<List<String>, FailureGroup>> failures = new LinkedHashMap<>();
        for (SessionCount c : counts) {
            if (!c.reportDomain().equals(reportDomain) || !c.day().equals(day)) {
                throw new IllegalArgumentException("a count of another report: " + c);
            }
            long[] s = summaries.computeIfAbsent(c.policy(), p -> new long[2]);
            if (c.result() instanceof SessionResult.Failure f) {
                s[1] += c.count();
                // RFC 8460 §4.4: one failure-details entry per distinct result type, sending
                // and receiving end and reason.
                List<String> key = List.of(f.type().token(), c.mxHost(), c.mxIp(),
                        submitterOr(submitter, c.sendingIp()), c.mxHelo(), f.reasonCode(),
                        f.additionalInformation());
                FailureGroup g = failures.computeIfAbsent(c.policy(), p -> new TreeMap<>(
                        (a, b) -> String.join("\0", a).compareTo(String.join("\0", b))))
                        .computeIfAbsent(key, k -> new FailureGroup(f, c, k.get(3)));
                g.count += c.count();
            } else {
                s[0] += c.count();
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("organization-name", submitter.organization());
            g.writeObjectFieldStart("date-range");
            g.writeStringField("start-datetime", day.atStartOfDay(ZoneOffset.UTC).toInstant()
                    .toString());
            g.writeStringField("end-datetime", day.plusDays(1).atStartOfDay(ZoneOffset.UTC)
                    .toInstant().minusSeconds(1).toString());
            g.writeEndObject();
            g.writeStringField("contact-info", submitter.contactInfo());
            g.writeStringField("report-id", reportId);
            g.writeArrayFieldStart("policies");
            for (Map.Entry<AppliedPolicy, long[]> e : summaries.entrySet()) {
                AppliedPolicy p = e.getKey();
                g.writeStartObject();
                g.writeObjectFieldStart("policy");
                g.writeStringField("policy-type", p.type().token());
                if (!p.strings().isEmpty()) {
                    g.writeArrayFieldStart("policy-string");
                    for (String s : p.strings()) {
                        g.writeString(s);
                    }
                    g.writeEndArray();
                }
                g.writeStringField("policy-domain", p.domain());
                if (!p.mxHosts().isEmpty()) {
                    g.writeArrayFieldStart("mx-host");
                    for (String s : p.mxHosts()) {
                        g.writeString(s);
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
                g.writeObjectFieldStart("summary");
                g.writeNumberField("total-successful-session-count", e.getValue()[0]);
                g.writeNumberField("total-failure-session-count", e.getValue()[1]);
                g.writeEndObject();
                Map<List<String>, FailureGroup> groups = failures.getOrDefault(p, Map.of());
                if (!groups.isEmpty()) {
                    g.writeArrayFieldStart("failure-details");
                    for (FailureGroup f : groups.values()) {
                        g.writeStartObject();
                        g.writeStringField("result-type", f.failure.type().token());
                        field(g, "sending-mta-ip", f.sendingIp);
                        field(g, "receiving-mx-hostname", f.at.mxHost());
                        field(g, "receiving-mx-helo", f.at.mxHelo());
                        field(g, "receiving-ip", f.at.mxIp());
                        g.writeNumberField("failed-session-count", f.count);
                        field(g, "additional-information", f.failure.additionalInformation());
                        field(g, "failure-reason-code", f.failure.reasonCode());
                        g.writeEndObject();
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return new TlsReport(reportDomain, day, reportId, out.toByteArray());
    }

    /** Optional fields are left out rather than written empty. */
    private static void field(JsonGenerator g, String name, String value) throws IOException {
        if (!value.isEmpty()) {
            g.writeStringField(name, value);
        }
    }

    /** The session's own sending IP (datagrams have it), else the one the submitter gave. */
    private static String submitterOr(Submitter submitter, String sendingIp) {
        return sendingIp.isEmpty() ? submitter.sendingMtaIp() : sendingIp;
    }

    private static final class FailureGroup {
        final SessionResult.Failure failure;
        final SessionCount at;
        final String sendingIp;
        long count;

        FailureGroup(SessionResult.Failure failure, SessionCount at, String sendingIp) {
            this.failure = failure;
            this.at = at;
            this.sendingIp = sendingIp;
        }
    }

    /**
     * The report-id of {@code submitter}'s report to {@code reportDomain} for {@code day}:
     * {@code 2026-11-23T00:00:00Z_example.com_} and 16 hex digits of a hash of the three.
     */
    public static String reportId(Submitter submitter, String reportDomain, LocalDate day) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((submitter.domain() + "\n"
                    + reportDomain + "\n" + day).getBytes(StandardCharsets.UTF_8));
            return day.atStartOfDay(ZoneOffset.UTC).toInstant() + "_" + reportDomain + "_"
                    + HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The report gzip-compressed (RFC 8460 §5.3: application/tlsrpt+gzip). */
    public byte[] gzip() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * The attachment's file name, RFC 8460 §5.3: {@code
     * SUBMITTER!POLICYDOMAIN!BEGIN!END!UNIQUE.json.gz}, BEGIN and END in epoch seconds.
     */
    public String fileName(Submitter submitter) {
        long begin = day.atStartOfDay(ZoneOffset.UTC).toEpochSecond();
        long end = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toEpochSecond() - 1;
        return submitter.domain() + "!" + reportDomain + "!" + begin + "!" + end + "!"
                + reportId.substring(reportId.lastIndexOf('_') + 1) + ".json.gz";
    }
}
