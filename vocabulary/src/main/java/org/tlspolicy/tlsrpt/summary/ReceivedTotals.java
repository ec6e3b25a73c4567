package org.tlspolicy.tlsrpt.summary;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * All-time figures of tlsrpt-receiver's store for monitoring (tlspolicyd's metrics): sessions
 * reported per policy domain and type, failures by result type, what ingestion did, when each
 * domain's newest report arrived, and each domain's latest audit. Only the {@value
 * #MAX_DOMAINS} domains with the newest reports are given: policy domains are written by
 * whoever sends a report, and a metrics label must not grow without bound.
 *
 * @param sessions       per domain and policy type
 * @param failures       per domain, policy type and result type
 * @param outcomes       stored, duplicate, rejected: reports (or mails) so far
 * @param newestReceived per domain, when its newest report was received
 * @param audits         per domain, its latest audit by {@code tlsrpt-receiver rollout}
 */
public record ReceivedTotals(List<Sessions> sessions, List<Failures> failures,
                             Map<String, Long> outcomes, Map<String, Instant> newestReceived,
                             Map<String, Audit> audits) {

    /** Domains given at most. */
    public static final int MAX_DOMAINS = 100;

    public ReceivedTotals {
        sessions = List.copyOf(sessions);
        failures = List.copyOf(failures);
        outcomes = Map.copyOf(outcomes);
        newestReceived = Map.copyOf(newestReceived);
        audits = Map.copyOf(audits);
    }

    /** Sessions of one domain and policy type. */
    public record Sessions(String domain, String policyType, long successful, long failed) {
    }

    /** Failed sessions of one domain, policy type and result type. */
    public record Failures(String domain, String policyType, String resultType, long count) {
    }

    /** An audit: when, its exit code (0 ok, 1 warn, 2 fail), its findings that are not ok. */
    public record Audit(Instant at, int exitCode, List<String> lines) {
        public Audit {
            lines = List.copyOf(lines);
        }
    }

    /** Reads the figures from tlsrpt-receiver's store. */
    public static ReceivedTotals read(Connection db) throws SQLException {
        Map<String, Instant> newest = new LinkedHashMap<>();
        try (PreparedStatement q = db.prepareStatement("""
                SELECT policy_domain, MAX(received_at) AS newest FROM received_policy
                GROUP BY policy_domain ORDER BY newest DESC, policy_domain LIMIT ?""")) {
            q.setInt(1, MAX_DOMAINS);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    newest.put(r.getString(1), Instant.ofEpochMilli(r.getLong(2)));
                }
            }
        }
        Set<String> domains = newest.keySet();
        List<Sessions> sessions = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("""
                SELECT policy_domain, policy_type, SUM(successful), SUM(failed)
                FROM received_policy GROUP BY policy_domain, policy_type
                ORDER BY policy_domain, policy_type""");
             ResultSet r = q.executeQuery()) {
            while (r.next()) {
                if (domains.contains(r.getString(1))) {
                    sessions.add(new Sessions(r.getString(1), r.getString(2), r.getLong(3),
                            r.getLong(4)));
                }
            }
        }
        List<Failures> failures = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("""
                SELECT policy_domain, policy_type, result_type, SUM(count)
                FROM received_failure GROUP BY policy_domain, policy_type, result_type
                ORDER BY policy_domain, policy_type, result_type""");
             ResultSet r = q.executeQuery()) {
            while (r.next()) {
                if (domains.contains(r.getString(1))) {
                    failures.add(new Failures(r.getString(1), r.getString(2), r.getString(3),
                            r.getLong(4)));
                }
            }
        }
        Map<String, Long> outcomes = new TreeMap<>();
        try (PreparedStatement q = db.prepareStatement(
                "SELECT name, value FROM receiver_counter");
             ResultSet r = q.executeQuery()) {
            while (r.next()) {
                outcomes.put(r.getString(1), r.getLong(2));
            }
        }
        Map<String, Audit> audits = new TreeMap<>();
        try (PreparedStatement q = db.prepareStatement("""
                SELECT a.domain, a.at, a.exit_code, a.lines FROM domain_audit a
                JOIN (SELECT domain, MAX(at) AS at FROM domain_audit GROUP BY domain) l
                  ON l.domain = a.domain AND l.at = a.at
                ORDER BY a.domain LIMIT ?""")) {
            q.setInt(1, MAX_DOMAINS);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    String lines = r.getString(4);
                    audits.put(r.getString(1), new Audit(Instant.ofEpochMilli(r.getLong(2)),
                            r.getInt(3), lines.isEmpty() ? List.of() : List.of(lines.split(
                            "\n"))));
                }
            }
        }
        ReceivedSummary.endRead(db);
        return new ReceivedTotals(sessions, failures, outcomes, newest, audits);
    }
}
