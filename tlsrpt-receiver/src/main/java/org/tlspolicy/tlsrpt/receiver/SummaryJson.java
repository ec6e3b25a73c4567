package org.tlspolicy.tlsrpt.receiver;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;

import java.io.IOException;
import java.io.Writer;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/**
 * {@code summary --json}: per policy domain an object with RFC 8460's names for the totals
 * ({@code policy-domain}, {@code total-successful-session-count}, {@code
 * total-failure-session-count}), the reports stored, and the same figures per day. The field
 * names are an interface (docs/receiver.md).
 */
public final class SummaryJson {

    private SummaryJson() {
    }

    public static void write(List<ReceivedSummary.Domain> domains, LocalDate since, Writer out)
            throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("since", since.toString());
            g.writeArrayFieldStart("domains");
            for (ReceivedSummary.Domain d : domains) {
                g.writeStartObject();
                g.writeStringField("policy-domain", d.domain());
                counts(g, d.total());
                g.writeNumberField("reports", d.reports());
                g.writeNumberField("reports-dkim-pass", d.authenticated());
                map(g, "failures-by-result-type", d.failuresByResult());
                top(g, "top-failing-sending-mta-ip", d.topSendingIps());
                top(g, "top-failing-receiving-mx-hostname", d.topReceivingMx());
                g.writeArrayFieldStart("reporters");
                for (ReceivedSummary.Reporter r : d.reporters()) {
                    g.writeStartObject();
                    g.writeStringField("organization-name", r.organization());
                    g.writeNumberField("reports", r.reports());
                    g.writeStringField("last-received", java.time.Instant.ofEpochMilli(
                            r.lastReceived()).toString());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeArrayFieldStart("days");
                for (ReceivedSummary.Day day : d.days()) {
                    g.writeStartObject();
                    g.writeStringField("day", day.day().toString());
                    counts(g, day.total());
                    g.writeObjectFieldStart("by-policy-type");
                    for (Map.Entry<String, ReceivedSummary.Counts> e
                            : day.byPolicyType().entrySet()) {
                        g.writeObjectFieldStart(e.getKey());
                        counts(g, e.getValue());
                        g.writeEndObject();
                    }
                    g.writeEndObject();
                    g.writeObjectFieldStart("by-organization");
                    for (Map.Entry<String, ReceivedSummary.Counts> e
                            : day.byOrganization().entrySet()) {
                        g.writeObjectFieldStart(e.getKey());
                        counts(g, e.getValue());
                        g.writeEndObject();
                    }
                    g.writeEndObject();
                    map(g, "failures-by-result-type", day.failuresByResult());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        out.write('\n');
        out.flush();
    }

    private static void counts(JsonGenerator g, ReceivedSummary.Counts c) throws IOException {
        g.writeNumberField("total-successful-session-count", c.successful());
        g.writeNumberField("total-failure-session-count", c.failed());
    }

    private static void map(JsonGenerator g, String name, Map<String, Long> m)
            throws IOException {
        g.writeObjectFieldStart(name);
        for (Map.Entry<String, Long> e : m.entrySet()) {
            g.writeNumberField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    private static void top(JsonGenerator g, String name, List<Map.Entry<String, Long>> top)
            throws IOException {
        g.writeArrayFieldStart(name);
        for (Map.Entry<String, Long> e : top) {
            g.writeStartObject();
            g.writeStringField("value", e.getKey());
            g.writeNumberField("failed-session-count", e.getValue());
            g.writeEndObject();
        }
        g.writeEndArray();
    }
}
