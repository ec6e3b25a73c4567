package org.tlspolicy.tlsrpt.fleet;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The fleet store's schema migrations: a versioned SQL script runner, lighter than a
 * migration framework for a handful of tables. Script {@code VN.sql} beside this class takes
 * the database from version N-1 to N; {@code schema_version} records what was applied. Every
 * relay applies what is missing when it connects, under an advisory lock, so two relays
 * starting together apply each script once; a database newer than this program is refused.
 */
final class Schema {

    /** The newest version this program knows. */
    static final int VERSION = 1;

    /** pg_advisory_xact_lock key of migrations ("TLSRPT" in ASCII, in a bigint). */
    private static final long LOCK = 0x544C5352_5054L;

    private Schema() {
    }

    /** Brings {@code db} (autocommit off) to {@link #VERSION}; commits. */
    static void migrate(Connection db) throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + LOCK + ")");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS schema_version (
                      version integer PRIMARY KEY,
                      applied_at timestamptz NOT NULL DEFAULT now())""");
            int current;
            try (ResultSet r = s.executeQuery("SELECT coalesce(max(version), 0) "
                    + "FROM schema_version")) {
                r.next();
                current = r.getInt(1);
            }
            if (current > VERSION) {
                throw new SQLException("fleet store schema " + current + " is newer than this "
                        + "program's (" + VERSION + "): refusing to touch it");
            }
            for (int v = current + 1; v <= VERSION; v++) {
                for (String statement : script(v).split(";\\s*\\n")) {
                    String sql = statement.lines().filter(l -> !l.startsWith("--"))
                            .reduce("", (a, b) -> a + b + "\n").strip();
                    if (!sql.isEmpty()) {
                        s.execute(sql);
                    }
                }
                try (PreparedStatement p = db.prepareStatement(
                        "INSERT INTO schema_version (version) VALUES (?)")) {
                    p.setInt(1, v);
                    p.executeUpdate();
                }
            }
            db.commit();
        } catch (SQLException e) {
            db.rollback();
            throw e;
        }
    }

    private static String script(int version) throws SQLException {
        try (InputStream in = Schema.class.getResourceAsStream("V" + version + ".sql")) {
            if (in == null) {
                throw new SQLException("schema script V" + version + ".sql is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new SQLException("schema script V" + version + ".sql: " + e.getMessage(), e);
        }
    }
}
