package org.tlspolicy.tlsrpt.cli;

import org.tlspolicy.log.LogValue;
import org.tlspolicy.tlsrpt.store.CollectorHealth;

import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.Delivery;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-sender status}: how each collector's reading goes (the newest entry counted,
 * when, and what stops it, if anything), the sessions counted for one UTC day, per policy
 * domain, and every report delivery the store remembers, one key=value line each.
 */
@Command(name = "status",
        description = "Shows what the store holds for a UTC day, and the report deliveries.")
final class StatusCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--day", description = "UTC day, YYYY-MM-DD (default: today)")
    LocalDate day;

    @Override
    public Integer call() throws Exception {
        LocalDate d = day != null ? day : LocalDate.now(ZoneOffset.UTC);
        PrintWriter out = spec.commandLine().getOut();
        try (SessionStore s = SessionStore.open(main.store)) {
            java.time.Instant now = java.time.Instant.now();
            List<CollectorHealth> health = s.health();
            for (CollectorHealth h : health) {
                out.printf("collector source=%s last_entry=%s read=%s dropped_sessions=%d%s%n",
                        LogValue.of(h.source()), h.lastEntry().toEpochMilli() == 0 ? "none"
                                : h.lastEntry().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                        h.readAt().toEpochMilli() == 0 ? "never"
                                : ago(java.time.Duration.between(h.readAt(), now)),
                        h.dropped(), h.problem().isEmpty() ? " state=ok"
                                : " state=failing since=" + h.problemAt().truncatedTo(
                                java.time.temporal.ChronoUnit.SECONDS) + " problem="
                                + LogValue.quoted(h.problem()));
            }
            if (health.isEmpty()) {
                out.println("collector never ran on this store (tlsrpt-sender-collect)");
            }
            List<String> domains = s.domains(d);
            for (String dom : domains) {
                long ok = 0;
                long failed = 0;
                for (SessionCount c : s.counts(d, dom)) {
                    if (c.result() instanceof SessionResult.Failure) {
                        failed += c.count();
                    } else {
                        ok += c.count();
                    }
                }
                out.printf("day=%s domain=%s successful=%d failed=%d%n", d, dom, ok, failed);
            }
            if (domains.isEmpty()) {
                out.printf("day=%s no sessions recorded%n", d);
            }
            List<Delivery> deliveries = s.deliveries();
            for (Delivery del : deliveries) {
                out.printf("delivery day=%s domain=%s to=%s report_id=%s state=%s "
                        + "attempts=%d last_error=%s%n", del.day(), del.domain(),
                        LogValue.of(del.destination()), del.reportId(), del.state(),
                        del.attempts(), LogValue.quoted(del.lastError()));
            }
            if (deliveries.isEmpty()) {
                out.println("no report deliveries planned yet");
            }
        }
        out.flush();
        return 0;
    }

    /** {@code 42s ago}, {@code 3m ago}, {@code 5h ago}, {@code 2d ago}. */
    static String ago(java.time.Duration d) {
        long s = Math.max(0, d.toSeconds());
        return (s < 120 ? s + "s" : s < 7200 ? s / 60 + "m" : s < 172_800 ? s / 3600 + "h"
                : s / 86_400 + "d") + "_ago";
    }
}
