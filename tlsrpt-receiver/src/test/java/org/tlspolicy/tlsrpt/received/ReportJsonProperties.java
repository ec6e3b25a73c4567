package org.tlspolicy.tlsrpt.received;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Generated reports written as JSON (in any field order, with unknown fields, gzipped or not)
 * read back to the same values; and anything at all is a report or a {@link ReportRejected},
 * never another exception.
 */
class ReportJsonProperties {

    static final ReportJson JSON = new ReportJson(ReportLimits.DEFAULT);

    @Provide
    Arbitrary<ReceivedReport> reports() {
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1)
                .ofMaxLength(10);
        Arbitrary<String> domain = label.list().ofMinSize(2).ofMaxSize(4)
                .map(l -> String.join(".", l));
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(40);
        Arbitrary<Long> count = Arbitraries.longs().between(0, 1L << 40);
        Arbitrary<ReceivedReport.Failure> failure = Combinators.combine(
                Arbitraries.of("certificate-expired", "starttls-not-supported",
                        "validation-failure", "sts-policy-fetch-error", "tlsa-invalid"),
                Arbitraries.of("192.0.2.1", "2001:db8::1", ""), domain, text, count)
                .as((r, ip, mx, info, n) -> new ReceivedReport.Failure(r, ip, mx, "", "", n,
                        info, ""));
        Arbitrary<ReceivedReport.Policy> policy = Combinators.combine(
                Arbitraries.of("sts", "tlsa", "no-policy-found"), domain, text.list()
                        .ofMaxSize(3), domain.list().ofMaxSize(3), count, count,
                failure.list().ofMaxSize(4))
                .as(ReceivedReport.Policy::new);
        Arbitrary<Instant> start = Arbitraries.longs().between(0, 4_000_000_000L)
                .map(Instant::ofEpochSecond);
        return Combinators.combine(text.filter(s -> !s.isBlank()), text.filter(s -> !s.isBlank()),
                start, Arbitraries.longs().between(0, 86_400), text, policy.list().ofMaxSize(5))
                .as((org, id, s, len, contact, policies) -> new ReceivedReport(org, id, s,
                        s.plusSeconds(len), contact, policies));
    }

    static byte[] write(ReceivedReport r, boolean reversed) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            if (reversed) {
                policies(g, r);
                g.writeStringField("x-unknown", "kept in the raw report");
            }
            g.writeStringField("organization-name", r.organization());
            g.writeObjectFieldStart("date-range");
            g.writeStringField("start-datetime", r.start().toString());
            g.writeStringField("end-datetime", r.end().toString());
            g.writeEndObject();
            g.writeStringField("contact-info", r.contact());
            g.writeStringField("report-id", r.reportId());
            if (!reversed) {
                policies(g, r);
            }
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    private static void policies(JsonGenerator g, ReceivedReport r) throws IOException {
        g.writeArrayFieldStart("policies");
        for (ReceivedReport.Policy p : r.policies()) {
            g.writeStartObject();
            g.writeObjectFieldStart("policy");
            g.writeStringField("policy-type", p.type());
            g.writeArrayFieldStart("policy-string");
            for (String s : p.strings()) {
                g.writeString(s);
            }
            g.writeEndArray();
            g.writeStringField("policy-domain", p.domain());
            g.writeArrayFieldStart("mx-host");
            for (String s : p.mxHosts()) {
                g.writeString(s);
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeObjectFieldStart("summary");
            g.writeNumberField("total-successful-session-count", p.successful());
            g.writeNumberField("total-failure-session-count", p.failed());
            g.writeEndObject();
            g.writeArrayFieldStart("failure-details");
            for (ReceivedReport.Failure f : p.failures()) {
                g.writeStartObject();
                g.writeStringField("result-type", f.resultType());
                g.writeStringField("sending-mta-ip", f.sendingIp());
                g.writeStringField("receiving-mx-hostname", f.receivingMx());
                g.writeStringField("receiving-mx-helo", f.receivingHelo());
                g.writeStringField("receiving-ip", f.receivingIp());
                g.writeNumberField("failed-session-count", f.count());
                g.writeStringField("additional-information", f.additionalInformation());
                g.writeStringField("failure-reason-code", f.reasonCode());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    @Property(tries = 300)
    void writtenReportsReadBackTheSame(@ForAll("reports") ReceivedReport r,
                                        @ForAll boolean reversed, @ForAll boolean gzipped)
            throws Exception {
        byte[] json = write(r, reversed);
        assertEquals(r, JSON.parse(gzipped ? ReportJsonTest.gzip(json) : json));
    }

    @Property(tries = 500)
    void anyBytesAreAReportOrRefused(@ForAll byte[] junk) {
        try {
            JSON.parse(junk);
        } catch (ReportRejected expected) {
            // a reason, not a crash
        }
    }

    @Property(tries = 200)
    void aNegativeCountAnywhereIsRefused(@ForAll("reports") ReceivedReport r) throws Exception {
        net.jqwik.api.Assume.that(!r.policies().isEmpty());
        ReceivedReport.Policy p = r.policies().get(0);
        ReceivedReport bad = new ReceivedReport(r.organization(), r.reportId(), r.start(),
                r.end(), r.contact(), List.of(new ReceivedReport.Policy(p.type(), p.domain(),
                p.strings(), p.mxHosts(), -1 - p.successful(), p.failed(), p.failures())));
        assertThrows(ReportRejected.class, () -> JSON.parse(write(bad, false)));
    }
}
