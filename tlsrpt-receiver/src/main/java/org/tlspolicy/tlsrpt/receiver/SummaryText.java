package org.tlspolicy.tlsrpt.receiver;

import org.tlspolicy.log.LogValue;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code summary} for people: per policy domain its totals and success rate, who reported and
 * whether they signed, then a line per day with the split by policy type and the failures by
 * result type, then where the failures came from and went to. Every name that came in a
 * report is printed through {@link LogValue#printable}: reporters write what they like.
 */
public final class SummaryText {

    private SummaryText() {
    }

    public static void print(List<ReceivedSummary.Domain> domains, LocalDate since,
                             PrintWriter out) {
        if (domains.isEmpty()) {
            out.println("no reports since " + since);
            return;
        }
        for (ReceivedSummary.Domain d : domains) {
            out.println(d.domain() + ": " + d.total().successful() + " successful, "
                    + d.total().failed() + " failed sessions" + rate(d.total()) + " since "
                    + since + "; " + d.reports() + " report" + (d.reports() == 1 ? "" : "s")
                    + ", " + d.authenticated() + " DKIM-authenticated");
            out.println("  reporters: " + d.reporters().stream().map(r -> p(r.organization())
                    + " (" + r.reports() + ", last " + Instant.ofEpochMilli(r.lastReceived())
                    .toString().substring(0, 10) + ")").collect(Collectors.joining(", ")));
            for (ReceivedSummary.Day day : d.days()) {
                out.println("  " + day.day() + "  " + day.total().successful() + " ok, "
                        + day.total().failed() + " failed" + rate(day.total()) + "  "
                        + day.byPolicyType().entrySet().stream().map(e -> e.getKey() + " "
                        + e.getValue().successful() + "/" + e.getValue().failed())
                        .collect(Collectors.joining(", "))
                        + (day.failuresByResult().isEmpty() ? "" : "  failures: "
                        + words(day.failuresByResult())));
            }
            if (!d.topSendingIps().isEmpty()) {
                out.println("  failing sending-mta-ip: " + top(d.topSendingIps()));
            }
            if (!d.topReceivingMx().isEmpty()) {
                out.println("  failing receiving-mx-hostname: " + top(d.topReceivingMx()));
            }
            out.println();
        }
    }

    private static String rate(ReceivedSummary.Counts c) {
        long all = c.successful() + c.failed();
        return all == 0 ? "" : String.format(Locale.ROOT, " (%.2f%% ok)",
                100.0 * c.successful() / all);
    }

    private static String words(Map<String, Long> m) {
        return m.entrySet().stream().map(e -> p(e.getKey()) + " " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    private static String top(List<Map.Entry<String, Long>> top) {
        return top.stream().map(e -> p(e.getKey()) + " " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    private static String p(String s) {
        return LogValue.printable(s);
    }
}
