package org.tlspolicy.tlsrpt.summary;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The reports tlsrpt-receiver stored, read (its tables are made by its ReceivedStore; this is
 * here, in the vocabulary, because tlspolicyd's status page and metrics read them too, from
 * the same SQLite file, read-only).
 *
 * <p>What the stored reports say per policy domain and UTC day: sessions that succeeded and failed,
 * by policy type and by reporting organization, failures by result type, and the sending
 * addresses and MX hosts that failed most. Two passes over the store (policies, then failure
 * details), each one grouped query; the rest is added up here. The totals are the sums of the
 * stored reports' own summaries, exactly.
 */
public final class ReceivedSummary {

    /** The few most frequent of a kind kept. */
    static final int TOP = 5;

    /** Successful and failed session counts. */
    public record Counts(long successful, long failed) {
        Counts plus(long s, long f) {
            return new Counts(successful + s, failed + f);
        }

        static final Counts ZERO = new Counts(0, 0);
    }

    /** One day of one domain. */
    public record Day(LocalDate day, Counts total, Map<String, Counts> byPolicyType,
                      Map<String, Counts> byOrganization, Map<String, Long> failuresByResult) {
    }

    /** One policy domain over the window. */
    public record Domain(String domain, Counts total, long reports, long authenticated,
                         List<Day> days, List<Map.Entry<String, Long>> topSendingIps,
                         List<Map.Entry<String, Long>> topReceivingMx,
                         Map<String, Long> failuresByResult, List<Reporter> reporters) {
    }

    /** A reporting organization and the newest report it sent (epoch milliseconds). */
    public record Reporter(String organization, long lastReceived, long reports) {
    }

    private ReceivedSummary() {
    }

    /** The summary of days from {@code since} on, for {@code domain} or every domain. */
    public static List<Domain> of(Connection db, LocalDate since, Optional<String> domain)
            throws SQLException {
        Map<String, Acc> acc = new TreeMap<>();
        String where = " WHERE day >= ?" + (domain.isPresent() ? " AND policy_domain = ?" : "");
        // One pass over the policies (their covering index, in order): sessions per day, type
        // and reporter; reports and signed reports from the first row of each report for its
        // domain; each reporter's newest report.
        try (PreparedStatement q = db.prepareStatement("""
                SELECT policy_domain, day, policy_type, organization, SUM(successful),
                  SUM(failed), SUM(first_of_report), SUM(first_of_report * dkim_pass),
                  MAX(received_at)
                FROM received_policy""" + where
                + " GROUP BY policy_domain, day, policy_type, organization")) {
            bind(q, since, domain);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    Acc a = acc.computeIfAbsent(r.getString(1), Acc::new);
                    a.policy(LocalDate.parse(r.getString(2)), r.getString(3), r.getString(4),
                            r.getLong(5), r.getLong(6));
                    a.reports += r.getLong(7);
                    a.authenticated += r.getLong(8);
                    a.reporter(r.getString(4), r.getLong(9), r.getLong(7));
                }
            }
        }
        try (PreparedStatement q = db.prepareStatement("""
                SELECT policy_domain, day, result_type, sending_ip, receiving_mx, SUM(count)
                FROM received_failure""" + where
                + " GROUP BY policy_domain, day, result_type, sending_ip, receiving_mx")) {
            bind(q, since, domain);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    acc.computeIfAbsent(r.getString(1), Acc::new).failure(
                            LocalDate.parse(r.getString(2)), r.getString(3), r.getString(4),
                            r.getString(5), r.getLong(6));
                }
            }
        }
        endRead(db);
        List<Domain> out = new ArrayList<>();
        for (Acc a : acc.values()) {
            out.add(a.done());
        }
        return out;
    }

    /**
     * One group of failed sessions: what the rollout weighs (who saw it, from where, on which
     * MX host, of what type, on which day).
     */
    public record FailureGroup(LocalDate day, String organization, String resultType,
                               String sendingIp, String receivingMx, long count) {
    }

    /** The failures of {@code domain} from {@code since} on, grouped. */
    public static List<FailureGroup> failures(Connection db, LocalDate since, String domain)
            throws SQLException {
        List<FailureGroup> out = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("""
                SELECT day, organization, result_type, sending_ip, receiving_mx, SUM(count)
                FROM received_failure WHERE day >= ? AND policy_domain = ?
                GROUP BY day, organization, result_type, sending_ip, receiving_mx
                ORDER BY day, organization, result_type, sending_ip, receiving_mx""")) {
            bind(q, since, Optional.of(domain));
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(new FailureGroup(LocalDate.parse(r.getString(1)), r.getString(2),
                            r.getString(3), r.getString(4), r.getString(5), r.getLong(6)));
                }
            }
        }
        endRead(db);
        return out;
    }

    /** Ends the read transaction of a connection that does not commit by itself. */
    static void endRead(Connection db) throws SQLException {
        if (!db.getAutoCommit()) {
            db.commit();
        }
    }

    private static void bind(PreparedStatement q, LocalDate since, Optional<String> domain)
            throws SQLException {
        q.setString(1, since.toString());
        if (domain.isPresent()) {
            q.setString(2, domain.get());
        }
    }

    /** One domain's figures while the rows come. */
    private static final class Acc {
        final String domain;
        Counts total = Counts.ZERO;
        long reports;
        long authenticated;
        final Map<LocalDate, Counts> dayTotals = new TreeMap<>();
        final Map<LocalDate, Map<String, Counts>> byType = new TreeMap<>();
        final Map<LocalDate, Map<String, Counts>> byOrg = new TreeMap<>();
        final Map<LocalDate, Map<String, Long>> failures = new TreeMap<>();
        final Map<String, Long> failuresByResult = new TreeMap<>();
        final Map<String, Long> ips = new LinkedHashMap<>();
        final Map<String, Long> mx = new LinkedHashMap<>();
        final Map<String, Reporter> reporters = new TreeMap<>();

        Acc(String domain) {
            this.domain = domain;
        }

        void reporter(String organization, long received, long reports) {
            reporters.merge(organization, new Reporter(organization, received, reports),
                    (a, b) -> new Reporter(organization, Math.max(a.lastReceived(),
                            b.lastReceived()), a.reports() + b.reports()));
        }

        void policy(LocalDate day, String type, String org, long s, long f) {
            total = total.plus(s, f);
            dayTotals.merge(day, new Counts(s, f), (a, b) -> a.plus(b.successful(), b.failed()));
            byType.computeIfAbsent(day, d -> new TreeMap<>()).merge(type, new Counts(s, f),
                    (a, b) -> a.plus(b.successful(), b.failed()));
            byOrg.computeIfAbsent(day, d -> new TreeMap<>()).merge(org, new Counts(s, f),
                    (a, b) -> a.plus(b.successful(), b.failed()));
        }

        void failure(LocalDate day, String result, String ip, String receivingMx, long n) {
            failures.computeIfAbsent(day, d -> new TreeMap<>()).merge(result, n, Long::sum);
            failuresByResult.merge(result, n, Long::sum);
            if (!ip.isEmpty()) {
                ips.merge(ip, n, Long::sum);
            }
            if (!receivingMx.isEmpty()) {
                mx.merge(receivingMx, n, Long::sum);
            }
        }

        Domain done() {
            List<Day> days = new ArrayList<>();
            for (LocalDate d : dayTotals.keySet()) {
                days.add(new Day(d, dayTotals.get(d), byType.getOrDefault(d, Map.of()),
                        byOrg.getOrDefault(d, Map.of()), failures.getOrDefault(d, Map.of())));
            }
            return new Domain(domain, total, reports, authenticated, days, top(ips), top(mx),
                    failuresByResult, List.copyOf(reporters.values()));
        }

        private static List<Map.Entry<String, Long>> top(Map<String, Long> m) {
            return m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue()
                    .reversed().thenComparing(Map.Entry.comparingByKey())).limit(TOP)
                    .map(e -> Map.entry(e.getKey(), e.getValue())).toList();
        }
    }
}
