package org.tlspolicy.tlsrpt.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionStoreTest {

    private static final LocalDate DAY = LocalDate.parse("2026-11-22");
    private static final AppliedPolicy STS = new AppliedPolicy(PolicyType.STS, "a.test",
            List.of("version: STSv1", "mode: enforce", "mx: mx.a.test", "max_age: 86400"),
            List.of("mx.a.test"));

    @TempDir
    Path dir;

    private static SessionCount failure(long n) {
        return new SessionCount(DAY, STS, new SessionResult.Failure(
                ResultType.CERTIFICATE_EXPIRED, "certificate has expired"), "mx.a.test",
                "192.0.2.1", n);
    }

    @Test
    void countsAndPositionSurviveReopeningAndAddUp() throws Exception {
        Path file = dir.resolve("sub/tlsrpt.db");
        try (SessionStore s = SessionStore.open(file)) {
            assertEquals(Optional.empty(), s.position("mail.log"));
            s.add(List.of(failure(2), new SessionCount(DAY, STS, new SessionResult.Success(),
                    "", "", 5)), "mail.log", "inode=1 offset=100");
            s.add(List.of(failure(3)), "mail.log", "inode=1 offset=200");
        }
        try (SessionStore s = SessionStore.open(file)) {
            assertEquals(Optional.of("inode=1 offset=200"), s.position("mail.log"));
            List<SessionCount> counts = s.counts(DAY, "a.test");
            assertEquals(2, counts.size(), counts.toString());
            assertEquals(List.of(failure(5), new SessionCount(DAY, STS,
                    new SessionResult.Success(), "", "", 5)), counts);
            assertEquals(List.of("a.test"), s.domains(DAY));
            assertEquals(List.of(), s.counts(DAY.plusDays(1), null));
            assertEquals(2, s.forgetBefore(DAY.plusDays(1)));
            assertEquals(List.of(), s.counts(DAY, null));
        }
    }

    @Test
    void aBatchThatFailsLeavesNeitherCountsNorPosition() throws Exception {
        Path file = dir.resolve("tlsrpt.db");
        try (SessionStore s = SessionStore.open(file)) {
            s.add(List.of(failure(1)), "mail.log", "offset=10");
            // A count without a policy domain violates NOT NULL half-way through the batch.
            SessionCount broken = new SessionCount(DAY, new AppliedPolicy(PolicyType.STS, null,
                    List.of(), List.of()), new SessionResult.Success(), "", "", 1);
            assertThrows(SQLException.class, () -> s.add(List.of(failure(7), broken),
                    "mail.log", "offset=20"));
            assertEquals(Optional.of("offset=10"), s.position("mail.log"));
            assertEquals(List.of(failure(1)), s.counts(DAY, null));
        }
    }

    /**
     * A store written before reports were kept per report domain (schema 2) is upgraded in
     * place: its counts report under their policy domain, Postfix's words become the reason.
     */
    @Test
    void aSchema2StoreKeepsItsCounts() throws Exception {
        Path file = dir.resolve("old.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement st = c.createStatement()) {
            st.execute("""
                    CREATE TABLE session_count (
                      day TEXT NOT NULL, policy_domain TEXT NOT NULL,
                      policy_type TEXT NOT NULL, policy_strings TEXT NOT NULL,
                      mx_patterns TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL,
                      mx_host TEXT NOT NULL, mx_ip TEXT NOT NULL, count INTEGER NOT NULL,
                      PRIMARY KEY (day, policy_domain, policy_type, policy_strings,
                                   mx_patterns, result, detail, mx_host, mx_ip))""");
            st.execute("CREATE TABLE source_position (source TEXT PRIMARY KEY, "
                    + "position TEXT NOT NULL)");
            st.execute("""
                    CREATE TABLE delivery (
                      day TEXT NOT NULL, domain TEXT NOT NULL, destination TEXT NOT NULL,
                      report_id TEXT NOT NULL, state TEXT NOT NULL,
                      attempts INTEGER NOT NULL, next_attempt INTEGER NOT NULL,
                      last_error TEXT NOT NULL,
                      PRIMARY KEY (day, domain, destination))""");
            st.execute("INSERT INTO session_count VALUES ('2026-11-22', 'a.test', 'sts', "
                    + "'version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 86400', "
                    + "'mx.a.test', 'certificate-expired', 'certificate has expired', "
                    + "'mx.a.test', '192.0.2.1', 7)");
            st.execute("INSERT INTO source_position VALUES ('log', '42')");
            st.execute("PRAGMA user_version = 2");
        }
        try (SessionStore s = SessionStore.open(file)) {
            assertEquals(List.of(failure(7)), s.counts(DAY, "a.test"));
            assertEquals(Optional.of("42"), s.position("log"));
            s.add(List.of(failure(1)), "log", "43");
            assertEquals(List.of(failure(8)), s.counts(DAY, null));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement st = c.createStatement();
             java.sql.ResultSet r = st.executeQuery("PRAGMA user_version")) {
            assertEquals(SessionStore.SCHEMA_VERSION, r.getInt(1));
        }
    }

    @Test
    void aNewerSchemaIsNotTouched() throws Exception {
        Path file = dir.resolve("tlsrpt.db");
        SessionStore.open(file).close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement st = c.createStatement()) {
            st.execute("PRAGMA user_version = " + (SessionStore.SCHEMA_VERSION + 1));
        }
        SQLException e = assertThrows(SQLException.class, () -> SessionStore.open(file));
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
    }
}
