package org.tlspolicy.status;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One UTC day of tlsrpt-sender's work when it shares the host: per report domain, the
 * sessions it counted, the failures by RFC 8460 result type, and the state of the report's
 * delivery. Read from its store (SQLite), read-only, and only when the file is there and
 * readable: tlspolicyd never writes to it, and a missing or foreign file is said, not an
 * error.
 */
public final class TlsrptSummary {

    private TlsrptSummary() {
    }

    /** The summary lines of {@code day}, or one line saying why there are none. */
    public static List<String> of(Path store, LocalDate day) {
        if (!Files.isReadable(store)) {
            return List.of("no tlsrpt-sender store readable at " + store + " (not installed "
                    + "here, or not readable by this user: add it to group tlsrpt-sender)");
        }
        // Read-only and immutable-off: the sender may be writing (WAL) meanwhile.
        String url = "jdbc:sqlite:file:" + store + "?mode=ro";
        try (Connection db = DriverManager.getConnection(url)) {
            Map<String, Map<String, Long>> byDomain = new TreeMap<>();
            try (PreparedStatement s = db.prepareStatement("""
                    SELECT report_domain, result, SUM(count) FROM session_count WHERE day = ?
                    GROUP BY report_domain, result""")) {
                s.setString(1, day.toString());
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        byDomain.computeIfAbsent(r.getString(1), k -> new LinkedHashMap<>())
                                .put(r.getString(2), r.getLong(3));
                    }
                }
            }
            Map<String, List<String>> deliveries = new TreeMap<>();
            try (PreparedStatement s = db.prepareStatement("""
                    SELECT domain, destination, state, attempts FROM delivery WHERE day = ?
                    ORDER BY domain, destination""")) {
                s.setString(1, day.toString());
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        deliveries.computeIfAbsent(r.getString(1), k -> new ArrayList<>())
                                .add(r.getString(3) + (r.getString(2).isEmpty() ? ""
                                        : " to " + r.getString(2)) + (r.getInt(4) > 1
                                        ? " after " + r.getInt(4) + " attempts" : ""));
                    }
                }
            }
            List<String> out = new ArrayList<>();
            for (Map.Entry<String, Map<String, Long>> e : byDomain.entrySet()) {
                long sessions = 0;
                List<String> failures = new ArrayList<>();
                for (Map.Entry<String, Long> c : e.getValue().entrySet()) {
                    sessions += c.getValue();
                    if (!c.getKey().equals("success")) {
                        failures.add(c.getKey() + " " + c.getValue());
                    }
                }
                out.add(day + " " + e.getKey() + ": " + sessions + " sessions, "
                        + (failures.isEmpty() ? "no failures" : "failures: "
                        + String.join(", ", failures)) + "; report "
                        + String.join("; ", deliveries.getOrDefault(e.getKey(),
                        List.of("not sent yet"))));
            }
            if (out.isEmpty()) {
                out.add("no sessions counted for " + day);
            }
            return out;
        } catch (SQLException e) {
            return List.of("tlsrpt-sender's store at " + store + " cannot be read: "
                    + e.getMessage());
        }
    }
}
