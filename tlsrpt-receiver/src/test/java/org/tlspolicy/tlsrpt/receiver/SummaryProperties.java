package org.tlspolicy.tlsrpt.receiver;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.tlspolicy.tlsrpt.received.ReceivedReport;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 31 §3: {@code summary --json}'s totals per policy domain equal the sums of the stored
 * reports' own summaries, exactly, and {@code reports} counts each report once, for any set of
 * reports (duplicates among them) stored in a real SQLite store.
 */
class SummaryProperties {

    @Provide
    Arbitrary<List<ReceivedReport>> reportSets() {
        Arbitrary<String> domain = Arbitraries.of("a.test", "b.test", "c.example");
        Arbitrary<ReceivedReport.Policy> policy = Combinators.combine(Arbitraries.of("sts",
                        "tlsa", "no-policy-found"), domain, Arbitraries.longs().between(0, 1L << 40),
                Arbitraries.longs().between(0, 1L << 30))
                .as((t, d, s, f) -> new ReceivedReport.Policy(t, d, List.of(), List.of(), s, f,
                        f == 0 ? List.of() : List.of(new ReceivedReport.Failure(
                                "certificate-expired", "192.0.2.1", "mx." + d, "", "", f, "",
                                ""))));
        Arbitrary<ReceivedReport> report = Combinators.combine(Arbitraries.of("google",
                        "microsoft", "yahoo"), Arbitraries.integers().between(0, 30),
                Arbitraries.integers().between(0, 5), policy.list().ofMinSize(1).ofMaxSize(3))
                .as((org, id, day, ps) -> new ReceivedReport(org, "id-" + id,
                        Instant.parse("2026-11-01T00:00:00Z").plusSeconds(86_400L * day),
                        Instant.parse("2026-11-01T23:59:59Z").plusSeconds(86_400L * day), "",
                        ps));
        return report.list().ofMaxSize(25);
    }

    @Property(tries = 60)
    void totalsAreTheSumsOfTheReportsStored(@ForAll("reportSets") List<ReceivedReport> reports)
            throws Exception {
        Path dir = Files.createTempDirectory("summary");
        try (ReceivedStore store = ReceivedStore.sqlite(dir.resolve("r.db"))) {
            Map<String, long[]> expected = new HashMap<>();
            Map<String, Set<String>> reportsOf = new HashMap<>();
            Set<String> stored = new HashSet<>();
            for (ReceivedReport r : reports) {
                ReceivedStore.Stored s = store.store(r, new byte[] {'{', '}'}, "mail", "none",
                        "", Instant.now());
                // Stored once per organization and report-id: the first copy counts.
                assertEquals(stored.add(r.organization() + "\u0000" + r.reportId())
                        ? ReceivedStore.Stored.STORED : ReceivedStore.Stored.DUPLICATE, s);
                if (s == ReceivedStore.Stored.STORED) {
                    for (ReceivedReport.Policy p : r.policies()) {
                        long[] t = expected.computeIfAbsent(p.domain(), d -> new long[2]);
                        t[0] += p.successful();
                        t[1] += p.failed();
                        reportsOf.computeIfAbsent(p.domain(), d -> new HashSet<>())
                                .add(r.organization() + "\u0000" + r.reportId());
                    }
                }
            }
            store.commit();
            LocalDate since = LocalDate.parse("2026-10-01");
            StringWriter json = new StringWriter();
            SummaryJson.write(ReceivedSummary.of(store.connection(), since, Optional.empty()),
                    since, json);
            Map<String, long[]> got = new HashMap<>();
            try (JsonParser p = new JsonFactory().createParser(json.toString())) {
                String domain = null;
                int depth = 0;
                for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                        depth++;
                    } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                        depth--;
                    } else if (t == JsonToken.FIELD_NAME && depth == 3) {
                        String name = p.currentName();
                        p.nextToken();
                        switch (name) {
                            case "policy-domain" -> domain = p.getText();
                            case "total-successful-session-count" -> got.computeIfAbsent(
                                    domain, d -> new long[3])[0] = p.getLongValue();
                            case "total-failure-session-count" -> got.computeIfAbsent(domain,
                                    d -> new long[3])[1] = p.getLongValue();
                            case "reports" -> got.computeIfAbsent(domain,
                                    d -> new long[3])[2] = p.getLongValue();
                            default -> p.skipChildren();
                        }
                    }
                }
            }
            assertEquals(expected.keySet(), got.keySet());
            for (String d : expected.keySet()) {
                assertEquals(expected.get(d)[0], got.get(d)[0], d);
                assertEquals(expected.get(d)[1], got.get(d)[1], d);
                assertEquals(reportsOf.get(d).size(), got.get(d)[2], d);
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile()
                        .delete());
            }
        }
    }
}
