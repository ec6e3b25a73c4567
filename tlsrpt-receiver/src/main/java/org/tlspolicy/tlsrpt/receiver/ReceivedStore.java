package org.tlspolicy.tlsrpt.receiver;

import org.tlspolicy.tlsrpt.received.ReceivedReport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;

/**
 * The reports received, one row each (unique by organization and report-id: the same report by
 * mail twice, or by mail and HTTPS, is stored once), with their policies and failure details as
 * rows the summary adds up, the raw report kept gzip-compressed for audit, and counters of
 * what ingestion did. SQLite (one file) on a single MX host; the fleet's PostgreSQL when
 * several MX hosts receive reports for the same domains. The SQL is the same on both but for
 * the key and blob types.
 */
public final class ReceivedStore implements AutoCloseable {

    /** What storing a report came to. */
    public enum Stored { STORED, DUPLICATE }

    private final Connection db;
    private final boolean postgres;

    private ReceivedStore(Connection db, boolean postgres) throws SQLException {
        this.db = db;
        this.postgres = postgres;
        migrate();
    }

    /** The SQLite store at {@code file} (made, with its directory, if missing). */
    public static ReceivedStore sqlite(Path file) throws SQLException {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
        } catch (IOException e) {
            throw new SQLException("cannot make the store's directory: " + e.getMessage(), e);
        }
        boolean created = !Files.exists(file);
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        if (created) {
            // Whatever the umask of who made it (Postfix's pipe runs with 077): readable by the
            // group, so that tlspolicyd's /domains view may read it; SQLite gives its -wal and
            // -shm files the same mode.
            try {
                Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions
                        .fromString("rw-r-----"));
            } catch (IOException | UnsupportedOperationException e) {
                // not ours to change: left as made
            }
        }
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode = WAL");
            s.execute("PRAGMA synchronous = FULL");
            s.execute("PRAGMA busy_timeout = 10000");
        }
        return new ReceivedStore(c, false);
    }

    /** A store on an open PostgreSQL connection (the fleet's). */
    public static ReceivedStore postgres(Connection c) throws SQLException {
        return new ReceivedStore(c, true);
    }

    private void migrate() throws SQLException {
        String id = postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
        String blob = postgres ? "BYTEA" : "BLOB";
        db.setAutoCommit(true);
        try (Statement s = db.createStatement()) {
            s.execute("""
                    CREATE TABLE IF NOT EXISTS received_report (
                      id %s, organization TEXT NOT NULL, report_id TEXT NOT NULL,
                      start_time BIGINT NOT NULL, end_time BIGINT NOT NULL,
                      contact TEXT NOT NULL, received_at BIGINT NOT NULL, source TEXT NOT NULL,
                      dkim_result TEXT NOT NULL, dkim_domain TEXT NOT NULL, raw %s NOT NULL,
                      UNIQUE (organization, report_id))""".formatted(id, blob));
            s.execute("""
                    CREATE TABLE IF NOT EXISTS received_policy (
                      report BIGINT NOT NULL, idx INTEGER NOT NULL, day TEXT NOT NULL,
                      organization TEXT NOT NULL, policy_domain TEXT NOT NULL,
                      policy_type TEXT NOT NULL, policy_strings TEXT NOT NULL,
                      mx_hosts TEXT NOT NULL, successful BIGINT NOT NULL, failed BIGINT NOT NULL,
                      received_at BIGINT NOT NULL, dkim_pass INTEGER NOT NULL,
                      first_of_report INTEGER NOT NULL,
                      PRIMARY KEY (report, idx))""");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS received_failure (
                      report BIGINT NOT NULL, policy_idx INTEGER NOT NULL, day TEXT NOT NULL,
                      organization TEXT NOT NULL, policy_domain TEXT NOT NULL,
                      policy_type TEXT NOT NULL, result_type TEXT NOT NULL,
                      sending_ip TEXT NOT NULL, receiving_mx TEXT NOT NULL,
                      receiving_helo TEXT NOT NULL, receiving_ip TEXT NOT NULL,
                      count BIGINT NOT NULL, additional TEXT NOT NULL, reason_code TEXT NOT NULL)""");
            upgradePolicyRows(s);
            // The summary reads every column it groups and adds from this index alone, in its
            // order: no table lookups, no sort (bench ReceiverBenchmark summary: a year of a
            // large provider's reports, 1,000,000 rows).
            s.execute("CREATE INDEX IF NOT EXISTS received_policy_summary ON received_policy "
                    + "(policy_domain, day, policy_type, organization, successful, failed, "
                    + "first_of_report, dkim_pass, received_at)");
            s.execute("CREATE INDEX IF NOT EXISTS received_failure_domain_day "
                    + "ON received_failure (policy_domain, day)");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS receiver_counter (
                      name TEXT PRIMARY KEY, value BIGINT NOT NULL)""");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS domain_audit (
                      domain TEXT NOT NULL, at BIGINT NOT NULL, exit_code INTEGER NOT NULL,
                      json TEXT NOT NULL, lines TEXT NOT NULL, PRIMARY KEY (domain, at))""");
        }
        db.setAutoCommit(false);
    }

    /**
     * A store made by the first release of the receiver (0fa85e3) has policy rows without
     * what the summary now reads from them alone: the columns are added and filled from their
     * reports, once, on both databases.
     */
    private void upgradePolicyRows(Statement s) throws SQLException {
        boolean has;
        try (ResultSet cols = db.getMetaData().getColumns(null, null,
                "received_policy", "received_at")) {
            has = cols.next();
        }
        if (has) {
            return;
        }
        db.setAutoCommit(false);
        s.execute("ALTER TABLE received_policy ADD COLUMN received_at BIGINT NOT NULL DEFAULT 0");
        s.execute("ALTER TABLE received_policy ADD COLUMN dkim_pass INTEGER NOT NULL DEFAULT 0");
        s.execute("ALTER TABLE received_policy ADD COLUMN first_of_report INTEGER NOT NULL "
                + "DEFAULT 0");
        s.execute("""
                UPDATE received_policy SET
                  received_at = (SELECT r.received_at FROM received_report r
                                 WHERE r.id = received_policy.report),
                  dkim_pass = (SELECT CASE WHEN r.dkim_result = 'pass' THEN 1 ELSE 0 END
                               FROM received_report r WHERE r.id = received_policy.report),
                  first_of_report = CASE WHEN idx = (SELECT MIN(q.idx) FROM received_policy q
                                      WHERE q.report = received_policy.report
                                      AND q.policy_domain = received_policy.policy_domain)
                                    THEN 1 ELSE 0 END""");
        s.execute("DROP INDEX IF EXISTS received_policy_domain_day");
        db.commit();
        db.setAutoCommit(true);
    }

    /**
     * Stores {@code report} (its raw bytes as received: gzip or JSON) unless a report of the same
     * organization and report-id is there already. Not committed: {@link #commit()}.
     */
    public Stored store(ReceivedReport report, byte[] raw, String source, String dkimResult,
                        String dkimDomain, Instant now) throws SQLException {
        long id;
        try (PreparedStatement ins = db.prepareStatement("""
                INSERT INTO received_report (organization, report_id, start_time, end_time,
                  contact, received_at, source, dkim_result, dkim_domain, raw)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (organization, report_id) DO NOTHING RETURNING id""")) {
            ins.setString(1, report.organization());
            ins.setString(2, report.reportId());
            ins.setLong(3, report.start().toEpochMilli());
            ins.setLong(4, report.end().toEpochMilli());
            ins.setString(5, report.contact());
            ins.setLong(6, now.toEpochMilli());
            ins.setString(7, source);
            ins.setString(8, dkimResult);
            ins.setString(9, dkimDomain);
            ins.setBytes(10, gzipped(raw));
            try (ResultSet r = ins.executeQuery()) {
                if (!r.next()) {
                    return Stored.DUPLICATE;
                }
                id = r.getLong(1);
            }
        }
        // A report covers one UTC day (RFC 8460 §4.1, daily): the day its range starts.
        String day = LocalDate.ofInstant(report.start(), ZoneOffset.UTC).toString();
        // What the summary adds up is kept on each policy row (the report's receipt time and
        // DKIM result; whether it is the report's first row for its domain, to count reports
        // per domain without a DISTINCT): no join at read time.
        java.util.Set<String> domains = new java.util.HashSet<>();
        try (PreparedStatement pol = db.prepareStatement(
                "INSERT INTO received_policy VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
             PreparedStatement fail = db.prepareStatement(
                     "INSERT INTO received_failure VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            int idx = 0;
            for (ReceivedReport.Policy p : report.policies()) {
                pol.setLong(1, id);
                pol.setInt(2, idx);
                pol.setString(3, day);
                pol.setString(4, report.organization());
                pol.setString(5, p.domain());
                pol.setString(6, p.type());
                pol.setString(7, String.join("\n", p.strings()));
                pol.setString(8, String.join(" ", p.mxHosts()));
                pol.setLong(9, p.successful());
                pol.setLong(10, p.failed());
                pol.setLong(11, now.toEpochMilli());
                pol.setInt(12, dkimResult.equals("pass") ? 1 : 0);
                pol.setInt(13, domains.add(p.domain()) ? 1 : 0);
                pol.addBatch();
                for (ReceivedReport.Failure f : p.failures()) {
                    fail.setLong(1, id);
                    fail.setInt(2, idx);
                    fail.setString(3, day);
                    fail.setString(4, report.organization());
                    fail.setString(5, p.domain());
                    fail.setString(6, p.type());
                    fail.setString(7, f.resultType());
                    fail.setString(8, f.sendingIp());
                    fail.setString(9, f.receivingMx());
                    fail.setString(10, f.receivingHelo());
                    fail.setString(11, f.receivingIp());
                    fail.setLong(12, f.count());
                    fail.setString(13, f.additionalInformation());
                    fail.setString(14, f.reasonCode());
                    fail.addBatch();
                }
                idx++;
            }
            pol.executeBatch();
            fail.executeBatch();
        }
        return Stored.STORED;
    }

    /** Adds {@code n} to counter {@code name} (stored, duplicate, rejected). Not committed. */
    public void count(String name, long n) throws SQLException {
        try (PreparedStatement up = db.prepareStatement("""
                INSERT INTO receiver_counter VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = receiver_counter.value + excluded.value""")) {
            up.setString(1, name);
            up.setLong(2, n);
            up.executeUpdate();
        }
    }

    /** The counters. */
    public java.util.Map<String, Long> counters() throws SQLException {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(
                "SELECT name, value FROM receiver_counter")) {
            while (r.next()) {
                out.put(r.getString(1), r.getLong(2));
            }
        }
        db.commit();
        return out;
    }

    /**
     * Keeps a domain's audit as of {@code at}: {@code tlspolicyd audit --json}'s output, its
     * exit code, and its findings that are not ok as lines for the status page.
     */
    public void saveAudit(String domain, Instant at, int exitCode, String json, String lines)
            throws SQLException {
        try (PreparedStatement ins = db.prepareStatement(
                "INSERT INTO domain_audit VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            ins.setString(1, domain);
            ins.setLong(2, at.toEpochMilli());
            ins.setInt(3, exitCode);
            ins.setString(4, json);
            ins.setString(5, lines);
            ins.executeUpdate();
        }
        db.commit();
    }

    /** A domain's latest audit: when, its exit code, its JSON. */
    public record Audit(Instant at, int exitCode, String json) {
    }

    public Optional<Audit> latestAudit(String domain) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT at, exit_code, json FROM "
                + "domain_audit WHERE domain = ? ORDER BY at DESC LIMIT 1")) {
            q.setString(1, domain);
            try (ResultSet r = q.executeQuery()) {
                Optional<Audit> a = r.next() ? Optional.of(new Audit(Instant.ofEpochMilli(
                        r.getLong(1)), r.getInt(2), r.getString(3))) : Optional.empty();
                db.commit();
                return a;
            }
        }
    }

    /** The raw reports of {@code domain}'s policies on {@code day}, for audit. */
    public List<byte[]> raw(String organization, String reportId) throws SQLException {
        List<byte[]> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("SELECT raw FROM received_report "
                + "WHERE organization = ? AND report_id = ?")) {
            q.setString(1, organization);
            q.setString(2, reportId);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(r.getBytes(1));
                }
            }
        }
        db.commit();
        return out;
    }

    public Connection connection() {
        return db;
    }

    public void commit() throws SQLException {
        db.commit();
    }

    public void rollback() throws SQLException {
        db.rollback();
    }

    @Override
    public void close() throws SQLException {
        db.close();
    }

    private static byte[] gzipped(byte[] raw) {
        if (raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b) {
            return raw;
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(raw.length / 4 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write(raw);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return b.toByteArray();
    }
}
