package org.tlspolicy.tlsrpt.store;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.SessionResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The sender's embedded SQLite database: session counts per day, report domain, policy and
 * outcome, and the read position of each log source.
 *
 * <p>Exactly once: {@link #add} stores a batch of counts and the source position after its last
 * line in one transaction, so a collector killed at any point resumes from a position that
 * matches the counts (a line is never counted twice, nor lost). Unlike tlspolicyd's cache, a
 * file that cannot be opened is an error, never replaced: it holds reports not yet sent.
 *
 * <p>In fleet mode ({@link #openForFleet}) every count added is also queued in the {@code
 * outbox} table, in the same transaction, with a sequence number: the fleet's forwarder
 * moves them to PostgreSQL exactly once (see {@code org.tlspolicy.tlsrpt.fleet.Forwarder}),
 * and while PostgreSQL is away they wait here.
 *
 * <p>Not thread-safe; one collector or one report run owns a store at a time (SQLite's own
 * locking keeps a second process, or the forwarder's own connection, from corrupting it; it
 * waits up to 10 s, then fails).
 */
public final class SessionStore implements ReportStore {

    /**
     * 1: session_count and source_position; 2: delivery; 3: session_count by report domain,
     * with sending IP, EHLO name, reason code and additional information; 4: outbox.
     */
    static final int SCHEMA_VERSION = 5;

    /** A count queued for the fleet's store, with its place in the queue. */
    public record Outboxed(long seq, SessionCount count) {
    }

    private static final String COUNT_TABLE = """
            CREATE TABLE %s (
              day TEXT NOT NULL, report_domain TEXT NOT NULL, policy_domain TEXT NOT NULL,
              policy_type TEXT NOT NULL, policy_strings TEXT NOT NULL,
              mx_patterns TEXT NOT NULL, result TEXT NOT NULL, reason_code TEXT NOT NULL,
              additional_info TEXT NOT NULL, sending_ip TEXT NOT NULL, mx_host TEXT NOT NULL,
              mx_helo TEXT NOT NULL, mx_ip TEXT NOT NULL, count INTEGER NOT NULL,
              PRIMARY KEY (day, report_domain, policy_domain, policy_type, policy_strings,
                           mx_patterns, result, reason_code, additional_info, sending_ip,
                           mx_host, mx_helo, mx_ip))""";

    private final Connection db;
    private final ReportTables tables;
    private final boolean outbox;

    private SessionStore(Connection db, boolean outbox) {
        this.db = db;
        this.tables = new ReportTables(db);
        this.outbox = outbox;
    }

    /** Opens {@code file}, creating it (and its directory) or upgrading its schema. */
    public static SessionStore open(Path file) throws SQLException {
        return open(file, false);
    }

    /** As {@link #open(Path)}, queueing every count added for the fleet's store too. */
    public static SessionStore openForFleet(Path file) throws SQLException {
        return open(file, true);
    }

    private static SessionStore open(Path file, boolean outbox) throws SQLException {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
        } catch (java.io.IOException e) {
            throw new SQLException("cannot create the directory of " + file + ": "
                    + (e instanceof java.nio.file.FileAlreadyExistsException
                    ? e.getMessage() + " is a file" : e.getMessage()), e);
        }
        Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
        try {
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA busy_timeout = 10000");
                s.execute("PRAGMA journal_mode = WAL");
                // A committed batch survives a power loss with its position: FULL, not NORMAL.
                s.execute("PRAGMA synchronous = FULL");
            }
            migrate(db);
            db.setAutoCommit(false);
            return new SessionStore(db, outbox);
        } catch (SQLException e) {
            db.close();
            throw e;
        }
    }

    private static void migrate(Connection db) throws SQLException {
        int version;
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(
                "PRAGMA user_version")) {
            version = r.getInt(1);
        }
        if (version > SCHEMA_VERSION) {
            throw new SQLException("store schema " + version + " is newer than this program's ("
                    + SCHEMA_VERSION + "): refusing to touch it");
        }
        if (version < 1) {
            try (Statement s = db.createStatement()) {
                s.execute("""
                        CREATE TABLE session_count (
                          day TEXT NOT NULL, policy_domain TEXT NOT NULL,
                          policy_type TEXT NOT NULL, policy_strings TEXT NOT NULL,
                          mx_patterns TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL,
                          mx_host TEXT NOT NULL, mx_ip TEXT NOT NULL, count INTEGER NOT NULL,
                          PRIMARY KEY (day, policy_domain, policy_type, policy_strings,
                                       mx_patterns, result, detail, mx_host, mx_ip))""");
                s.execute("""
                        CREATE TABLE source_position (
                          source TEXT PRIMARY KEY, position TEXT NOT NULL)""");
                s.execute("PRAGMA user_version = 1");
            }
        }
        if (version < 2) {
            try (Statement s = db.createStatement()) {
                s.execute("""
                        CREATE TABLE delivery (
                          day TEXT NOT NULL, domain TEXT NOT NULL, destination TEXT NOT NULL,
                          report_id TEXT NOT NULL, state TEXT NOT NULL,
                          attempts INTEGER NOT NULL, next_attempt INTEGER NOT NULL,
                          last_error TEXT NOT NULL,
                          PRIMARY KEY (day, domain, destination))""");
                s.execute("PRAGMA user_version = 2");
            }
        }
        if (version < 3) {
            // The primary key changes, so the table is copied: counts until now were reported
            // per policy domain, and Postfix's words were the additional information.
            db.setAutoCommit(false);
            try (Statement s = db.createStatement()) {
                s.execute(COUNT_TABLE.formatted("session_count_3"));
                s.execute("""
                        INSERT INTO session_count_3
                        SELECT day, policy_domain, policy_domain, policy_type, policy_strings,
                               mx_patterns, result, detail, '', '', mx_host, '', mx_ip, count
                        FROM session_count""");
                s.execute("DROP TABLE session_count");
                s.execute("ALTER TABLE session_count_3 RENAME TO session_count");
                s.execute("PRAGMA user_version = 3");
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        }
        if (version < 4) {
            try (Statement s = db.createStatement()) {
                // AUTOINCREMENT: a sequence number is never used twice, even after the rows
                // below it were forwarded and deleted (the fleet's store skips what it has).
                s.execute("""
                        CREATE TABLE outbox (
                          seq INTEGER PRIMARY KEY AUTOINCREMENT,
                          day TEXT NOT NULL, report_domain TEXT NOT NULL,
                          policy_domain TEXT NOT NULL, policy_type TEXT NOT NULL,
                          policy_strings TEXT NOT NULL, mx_patterns TEXT NOT NULL,
                          result TEXT NOT NULL, reason_code TEXT NOT NULL,
                          additional_info TEXT NOT NULL, sending_ip TEXT NOT NULL,
                          mx_host TEXT NOT NULL, mx_helo TEXT NOT NULL, mx_ip TEXT NOT NULL,
                          count INTEGER NOT NULL)""");
                s.execute("PRAGMA user_version = 4");
            }
        }
        if (version < 5) {
            try (Statement s = db.createStatement()) {
                s.execute("""
                        CREATE TABLE collector_health (
                          source TEXT PRIMARY KEY, last_entry INTEGER NOT NULL,
                          read_at INTEGER NOT NULL, problem TEXT NOT NULL,
                          problem_at INTEGER NOT NULL, dropped INTEGER NOT NULL)""");
                s.execute("PRAGMA user_version = 5");
            }
        }
    }

    /**
     * Records that a batch of {@code source} was committed at {@code at}, its newest counted
     * entry of {@code lastEntry} (null: none new), with {@code dropped} sessions left out.
     */
    public void read(String source, Instant lastEntry, Instant at, long dropped)
            throws SQLException {
        try (PreparedStatement up = db.prepareStatement("""
                INSERT INTO collector_health VALUES (?, ?, ?, '', 0, ?)
                ON CONFLICT (source) DO UPDATE SET
                  last_entry = max(last_entry, excluded.last_entry), read_at = excluded.read_at,
                  dropped = dropped + excluded.dropped""")) {
            up.setString(1, source);
            up.setLong(2, lastEntry == null ? 0 : lastEntry.toEpochMilli());
            up.setLong(3, at.toEpochMilli());
            up.setLong(4, dropped);
            up.executeUpdate();
            db.commit();
        }
    }

    /** Records why reading {@code source} stopped ({@code ""}: it goes on again). */
    public void problem(String source, String problem, Instant at) throws SQLException {
        try (PreparedStatement up = db.prepareStatement("""
                INSERT INTO collector_health VALUES (?, 0, 0, ?, ?, 0)
                ON CONFLICT (source) DO UPDATE SET
                  problem = excluded.problem, problem_at = excluded.problem_at""")) {
            up.setString(1, source);
            up.setString(2, problem);
            up.setLong(3, at.toEpochMilli());
            up.executeUpdate();
            db.commit();
        }
    }

    /** Every source's health, by source. */
    public List<CollectorHealth> health() throws SQLException {
        List<CollectorHealth> out = new java.util.ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(
                "SELECT * FROM collector_health ORDER BY source")) {
            while (r.next()) {
                out.add(new CollectorHealth(r.getString("source"),
                        Instant.ofEpochMilli(r.getLong("last_entry")),
                        Instant.ofEpochMilli(r.getLong("read_at")), r.getString("problem"),
                        Instant.ofEpochMilli(r.getLong("problem_at")), r.getLong("dropped")));
            }
        }
        db.commit();
        return out;
    }

    /**
     * Adds {@code counts} and sets {@code source}'s position to {@code position}, together or
     * not at all.
     */
    public void add(List<SessionCount> counts, String source, String position)
            throws SQLException {
        try (PreparedStatement up = db.prepareStatement("""
                INSERT INTO session_count VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET count = count + excluded.count""");
             PreparedStatement queue = db.prepareStatement("""
                INSERT INTO outbox (day, report_domain, policy_domain, policy_type,
                  policy_strings, mx_patterns, result, reason_code, additional_info,
                  sending_ip, mx_host, mx_helo, mx_ip, count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""");
             PreparedStatement pos = db.prepareStatement("""
                INSERT INTO source_position VALUES (?, ?)
                ON CONFLICT DO UPDATE SET position = excluded.position""")) {
            for (SessionCount c : counts) {
                bind(up, c);
                up.addBatch();
                if (outbox) {
                    bind(queue, c);
                    queue.addBatch();
                }
            }
            up.executeBatch();
            if (outbox) {
                queue.executeBatch();
            }
            pos.setString(1, source);
            pos.setString(2, position);
            pos.executeUpdate();
            db.commit();
        } catch (SQLException e) {
            db.rollback();
            throw e;
        }
    }

    /** The 14 columns of a count row, in the table's order, into {@code st}'s parameters. */
    private static void bind(PreparedStatement st, SessionCount c) throws SQLException {
        AppliedPolicy p = c.policy();
        st.setString(1, c.day().toString());
        st.setString(2, c.reportDomain());
        st.setString(3, p.domain());
        st.setString(4, p.type().token());
        st.setString(5, String.join("\n", p.strings()));
        st.setString(6, String.join("\n", p.mxHosts()));
        if (c.result() instanceof SessionResult.Failure f) {
            st.setString(7, f.type().token());
            st.setString(8, f.reasonCode());
            st.setString(9, f.additionalInformation());
        } else {
            st.setString(7, "success");
            st.setString(8, "");
            st.setString(9, "");
        }
        st.setString(10, c.sendingIp());
        st.setString(11, c.mxHost());
        st.setString(12, c.mxHelo());
        st.setString(13, c.mxIp());
        st.setLong(14, c.count());
    }

    /**
     * This store's id in the fleet, made at random the first time it is asked for: with the
     * relay's name, it tells the fleet's store whose outbox a count came from, so that a
     * relay installed again (a new store, its sequence starting again) is a new source.
     */
    public String fleetId() throws SQLException {
        Optional<String> id = position(FLEET_ID);
        if (id.isPresent()) {
            return id.get();
        }
        byte[] random = new byte[8];
        new SecureRandom().nextBytes(random);
        try (PreparedStatement i = db.prepareStatement(
                "INSERT INTO source_position VALUES (?, ?) ON CONFLICT DO NOTHING")) {
            i.setString(1, FLEET_ID);
            i.setString(2, HexFormat.of().formatHex(random));
            i.executeUpdate();
            db.commit();
        }
        return position(FLEET_ID).orElseThrow();
    }

    /** The source_position row that holds {@link #fleetId()}: no log source has this name. */
    private static final String FLEET_ID = "fleet:store-id";

    /** The oldest {@code limit} counts queued for the fleet's store. */
    public List<Outboxed> outbox(int limit) throws SQLException {
        List<Outboxed> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("""
                SELECT seq, day, report_domain, policy_domain, policy_type, policy_strings,
                       mx_patterns, result, reason_code, additional_info, sending_ip, mx_host,
                       mx_helo, mx_ip, count
                FROM outbox ORDER BY seq LIMIT ?""")) {
            q.setInt(1, limit);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(new Outboxed(r.getLong(1), ReportTables.count(r, 2)));
                }
            }
            db.commit();
        }
        return out;
    }

    /** Removes the queued counts up to {@code seq}, which the fleet's store has. */
    public void dropOutbox(long seq) throws SQLException {
        try (PreparedStatement d = db.prepareStatement("DELETE FROM outbox WHERE seq <= ?")) {
            d.setLong(1, seq);
            d.executeUpdate();
            db.commit();
        }
    }

    /** Where reading {@code source} stopped, if it was ever read. */
    public Optional<String> position(String source) throws SQLException {
        try (PreparedStatement q = db.prepareStatement(
                "SELECT position FROM source_position WHERE source = ?")) {
            q.setString(1, source);
            try (ResultSet r = q.executeQuery()) {
                Optional<String> p = r.next() ? Optional.of(r.getString(1)) : Optional.empty();
                db.commit();
                return p;
            }
        }
    }

    @Override
    public ReportTables tables() {
        return tables;
    }

    /** One relay's sender is alone: every delivery is its to attempt, as it is now. */
    @Override
    public Optional<Claim> claim(Delivery d) {
        return Optional.of(new Claim() {
            @Override
            public Delivery delivery() {
                return d;
            }

            @Override
            public void close() {
            }
        });
    }

    /** Every session of a single relay is counted here as it happens. */
    @Override
    public Optional<String> incomplete(LocalDate day, Instant now) {
        return Optional.empty();
    }

    @Override
    public void close() throws SQLException {
        db.close();
    }
}
