package org.tlspolicy.tlsrpt.receiver;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.dkim.DkimVerifier;
import org.tlspolicy.postgres.PostgresTarget;
import org.tlspolicy.testworld.PostgresServer;
import org.tlspolicy.tlsrpt.received.ReportLimits;
import org.tlspolicy.tlsrpt.receiver.cli.Main;
import org.tlspolicy.tlsrpt.report.TlsReport;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fleet mode on Debian's PostgreSQL (a cluster made for the test): two MX hosts receiving
 * reports for the same domain into one store count a report they both got once, and the
 * command line's {@code --fleet} summary shows the one view.
 */
class FleetReceiverTest {

    static PostgresServer postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        postgres = PostgresServer.start();
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE receiver");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    @Test
    void twoMxHostsOneViewEachReportOnce() throws Exception {
        PostgresTarget target = new PostgresTarget(postgres.uri().replace("/postgres",
                "/receiver"), "postgres", Optional.empty());
        TlsReport a = IngestTest.report("example.test");
        TlsReport b = IngestTest.report("example.org");
        DkimVerifier none = new DkimVerifier((s, d) -> Optional.empty());
        try (ReceivedStore mx1 = ReceivedStore.postgres(target.connect("test", w -> { }));
             ReceivedStore mx2 = ReceivedStore.postgres(target.connect("test", w -> { }))) {
            Ingest one = new Ingest(mx1, ReportLimits.DEFAULT, none, new Quarantine(
                    dir.resolve("q1")), Instant::now);
            Ingest two = new Ingest(mx2, ReportLimits.DEFAULT, none, new Quarantine(
                    dir.resolve("q2")), Instant::now);
            assertInstanceOf(Ingest.Outcome.Stored.class, one.mail(MaildirTest.mail(
                    "example.test")));
            mx1.commit();
            // The same report reached the second MX host too (and once by HTTPS).
            assertInstanceOf(Ingest.Outcome.Duplicate.class, two.mail(MaildirTest.mail(
                    "example.test")));
            assertInstanceOf(Ingest.Outcome.Duplicate.class, two.https(a.gzip()));
            assertInstanceOf(Ingest.Outcome.Stored.class, two.https(b.json()));
            mx2.commit();
            assertEquals(Map.of("duplicate", 2L, "stored", 2L), mx1.counters());
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"--fleet", target.uri(), "--fleet-user", "postgres",
            "summary", "--since", IngestTest.DAY.toString(), "--json"}, new PrintWriter(out),
                new PrintWriter(err));
        assertEquals(0, code, out + "\n" + err);
        String json = out.toString();
        assertTrue(json.contains("\"policy-domain\" : \"example.test\""), json);
        assertTrue(json.contains("\"policy-domain\" : \"example.org\""), json);
        // 1,200 per domain, counted once: in its total, its one day, that day's policy type
        // and that day's reporter; two domains.
        assertEquals(8, json.split("\"total-successful-session-count\" : 1200,", -1).length
                - 1, json);
    }
}
