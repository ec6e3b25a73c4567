package org.tlspolicy.tlsrpt.receiver;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.received.ReceivedReport;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * A store the receiver's first release made (policy rows without received_at, dkim_pass and
 * first_of_report, the old index) gives the same summary after the upgrade as a new store of
 * the same reports.
 */
class StoreUpgradeTest {

    private static final LocalDate SINCE = LocalDate.parse("2026-10-01");

    @Test
    void aFirstReleaseStoreSummarisesAsANewOne(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("r.db");
        List<ReceivedSummary.Domain> fresh;
        try (ReceivedStore store = ReceivedStore.sqlite(file)) {
            store.store(report("google", "a", 10, 0), new byte[] {'{', '}'}, "mail", "pass",
                    "google.com", Instant.parse("2026-11-02T06:00:00Z"));
            store.store(report("microsoft", "b", 7, 3), new byte[] {'{', '}'}, "mail", "none",
                    "", Instant.parse("2026-11-02T07:00:00Z"));
            store.commit();
            fresh = ReceivedSummary.of(store.connection(), SINCE, Optional.empty());
        }
        // Back to the first release's schema (SQLite drops a column only once no index
        // names it).
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement()) {
            s.execute("DROP INDEX received_policy_summary");
            s.execute("ALTER TABLE received_policy DROP COLUMN received_at");
            s.execute("ALTER TABLE received_policy DROP COLUMN dkim_pass");
            s.execute("ALTER TABLE received_policy DROP COLUMN first_of_report");
            s.execute("CREATE INDEX received_policy_domain_day ON received_policy "
                    + "(policy_domain, day)");
        }
        try (ReceivedStore store = ReceivedStore.sqlite(file)) {
            List<ReceivedSummary.Domain> upgraded = ReceivedSummary.of(store.connection(), SINCE,
                    Optional.empty());
            assertNotEquals(List.of(), upgraded);
            assertEquals(fresh, upgraded);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                     + "AND name = 'received_policy_domain_day'")) {
            rs.next();
            assertEquals(0, rs.getInt(1));
        }
    }

    private static ReceivedReport report(String org, String id, long ok, long failed) {
        // Two policies of one domain in one report: the report counts once for it.
        return new ReceivedReport(org, id, Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-11-01T23:59:59Z"), "", List.of(
                new ReceivedReport.Policy("sts", "a.test", List.of(), List.of(), ok, failed,
                        failed == 0 ? List.of() : List.of(new ReceivedReport.Failure(
                                "certificate-expired", "192.0.2.1", "mx.a.test", "", "", failed,
                                "", ""))),
                new ReceivedReport.Policy("tlsa", "a.test", List.of(), List.of(), 1, 0,
                        List.of())));
    }
}
