package org.tlspolicy.tlsrpt.collect;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.Rfc8460Check;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.postfixlog.NextHops;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A day of a busy relay ({@link RelayDay}: content filters, retries, several MX hosts per
 * domain, a relayhost, mixed outcomes, interleaved processes) read by the file collector: the
 * counts per domain and result are exactly the generator's, and every report built from them
 * passes a strict RFC 8460 check.
 */
class RelayDayTest {

    private static final LocalDate DAY = LocalDate.parse("2026-11-23");
    private static final TlsReport.Submitter SUBMITTER = new TlsReport.Submitter(
            "Relay Org", "mailto:tlsrpt@relay.example", "relay.example", "");

    @TempDir
    Path dir;

    @Test
    void aBusyRelaysDayGivesExactlyItsTotals() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            RelayDay world = new RelayDay(seed, DAY, 60, 3000);
            Map<String, AppliedPolicy> policies = world.policies();
            Path log = Files.write(dir.resolve("mail-" + seed + ".log"), world.lines);
            try (SessionStore store = SessionStore.open(dir.resolve("day-" + seed + ".db"))) {
                new Collector(store, policies::get, Set.of(), ZoneOffset.UTC,
                        () -> Instant.parse("2026-11-24T02:00:00Z"),
                        new NextHops(List.of("[" + RelayDay.RELAYHOST + "]"))).readToEnd(log);
                Map<String, Map<String, Long>> got = new TreeMap<>();
                for (LocalDate d : List.of(DAY, DAY.plusDays(1))) {
                    for (SessionCount c : store.counts(d, null)) {
                        String result = c.result() instanceof SessionResult.Failure f
                                ? f.type().token() : "success";
                        got.computeIfAbsent(c.reportDomain(), k -> new TreeMap<>())
                                .merge(result, c.count(), Long::sum);
                    }
                }
                assertEquals(world.expected, got, "seed " + seed + ", " + world);
                for (String domain : store.domains(DAY)) {
                    TlsReport report = TlsReport.build(SUBMITTER, domain, DAY,
                            store.counts(DAY, domain));
                    List<String> problems = Rfc8460Check.problems(report.json());
                    assertTrue(problems.isEmpty(), domain + ": " + problems + "\n"
                            + new String(report.json()));
                }
                long sessions = got.values().stream().flatMap(m -> m.values().stream())
                        .mapToLong(Long::longValue).sum();
                System.out.println("RelayDayTest seed " + seed + ": " + world + ", "
                        + sessions + " sessions counted");
            }
        }
    }
}
