package org.tlspolicy.status;

import org.tlspolicy.tlsrpt.summary.ReceivedSummary;
import org.tlspolicy.tlsrpt.summary.ReceivedTotals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

/**
 * The reports tlsrpt-receiver stored on this host, as the status page's "your domains" view
 * and the metrics read them: from its SQLite store, read-only (tlspolicyd never writes to it),
 * at most once a minute whatever the scrape rate, and only when the file is there and
 * readable, which otherwise is said, not an error.
 */
public final class ReceivedReports {

    /** How long a reading is reused. */
    static final Duration FRESH = Duration.ofMinutes(1);

    /** Days the view shows. */
    public static final int DAYS = 30;

    /** What one reading found: the figures, or why there are none. */
    public sealed interface Reading {
        record Read(Instant at, ReceivedTotals totals, List<ReceivedSummary.Domain> days)
                implements Reading {
        }

        record Unavailable(Instant at, String why) implements Reading {
        }

        Instant at();
    }

    private final Path store;
    private final Clock clock;
    private volatile Reading last;

    public ReceivedReports(Path store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** The figures, read again when the last reading is older than a minute. */
    public synchronized Reading reading() {
        Instant now = clock.instant();
        if (last != null && Duration.between(last.at(), now).compareTo(FRESH) < 0) {
            return last;
        }
        last = read(now);
        return last;
    }

    private Reading read(Instant now) {
        if (!Files.isReadable(store)) {
            return new Reading.Unavailable(now, "no tlsrpt-receiver store readable at " + store
                    + " (not installed here, or not readable by this user: add it to group "
                    + "tlsrpt-receiver)");
        }
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:file:" + store
                + "?mode=ro")) {
            return new Reading.Read(now, ReceivedTotals.read(db), ReceivedSummary.of(db,
                    LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(DAYS - 1L),
                    Optional.empty()));
        } catch (SQLException e) {
            return new Reading.Unavailable(now, "tlsrpt-receiver store " + store
                    + " unreadable: " + e.getMessage());
        }
    }

    /** The Prometheus series of the reading (none when there is no store). */
    public String metrics() {
        Reading r = reading();
        if (!(r instanceof Reading.Read read)) {
            return "";
        }
        ReceivedTotals t = read.totals();
        StringBuilder b = new StringBuilder();
        b.append("# HELP tlsrpt_receiver_sessions_total Sessions reported to this domain by "
                + "other domains' TLS reports, by policy type and result.\n"
                + "# TYPE tlsrpt_receiver_sessions_total counter\n");
        for (ReceivedTotals.Sessions s : t.sessions()) {
            String labels = "domain=\"" + label(s.domain()) + "\",policy_type=\""
                    + label(s.policyType()) + "\"";
            b.append("tlsrpt_receiver_sessions_total{").append(labels)
                    .append(",result=\"successful\"} ").append(s.successful()).append('\n');
            b.append("tlsrpt_receiver_sessions_total{").append(labels)
                    .append(",result=\"failed\"} ").append(s.failed()).append('\n');
        }
        b.append("# HELP tlsrpt_receiver_failed_sessions_total Failed sessions reported, by "
                + "RFC 8460 result type.\n# TYPE tlsrpt_receiver_failed_sessions_total counter\n");
        for (ReceivedTotals.Failures f : t.failures()) {
            b.append("tlsrpt_receiver_failed_sessions_total{domain=\"").append(label(
                    f.domain())).append("\",policy_type=\"").append(label(f.policyType()))
                    .append("\",result_type=\"").append(label(f.resultType())).append("\"} ")
                    .append(f.count()).append('\n');
        }
        b.append("# HELP tlsrpt_receiver_reports_total Reports taken in, by outcome.\n"
                + "# TYPE tlsrpt_receiver_reports_total counter\n");
        for (String outcome : List.of("stored", "duplicate", "rejected")) {
            b.append("tlsrpt_receiver_reports_total{outcome=\"").append(outcome).append("\"} ")
                    .append(t.outcomes().getOrDefault(outcome, 0L)).append('\n');
        }
        b.append("# HELP tlsrpt_receiver_newest_report_age_seconds Time since the newest "
                + "report for the domain was received (alert: reports stopped).\n"
                + "# TYPE tlsrpt_receiver_newest_report_age_seconds gauge\n");
        t.newestReceived().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .forEach(e -> b.append("tlsrpt_receiver_newest_report_age_seconds{domain=\"")
                        .append(label(e.getKey())).append("\"} ").append(Math.max(0,
                                Duration.between(e.getValue(), read.at()).toSeconds()))
                        .append('\n'));
        return b.toString();
    }

    private static String label(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
