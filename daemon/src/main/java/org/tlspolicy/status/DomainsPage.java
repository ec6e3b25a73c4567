package org.tlspolicy.status;

import org.tlspolicy.tlsrpt.summary.ReceivedSummary;
import org.tlspolicy.tlsrpt.summary.ReceivedTotals;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The "your domains" view (GET /domains): for each domain that other domains' TLS reports are
 * about, the success rate per day and policy type over the last {@value
 * ReceivedReports#DAYS} days as an SVG plot, the failures by result type, its latest audit,
 * and each reporter with when it last reported. Self-contained like the status page (inline
 * CSS and SVG, no script); every text from a report is escaped.
 */
public final class DomainsPage {

    /** The policy types and their colours (contrast at least 4.5:1 on white). */
    static final String[] TYPES = {"sts", "tlsa", "no-policy-found"};
    static final String[] COLOURS = {"#0b5394", "#38761d", "#7f6000"};

    private DomainsPage() {
    }

    public static String render(ReceivedReports.Reading reading) {
        StringBuilder b = new StringBuilder(16_384);
        b.append("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <title>tlspolicyd: your domains</title>
                <style>
                body{font-family:sans-serif;color:#1a1a1a;background:#ffffff;margin:1.5em;
                  max-width:70em}
                h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em}h3{font-size:1.05em}
                table{border-collapse:collapse}
                td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #cccccc}
                .problem{color:#a61c00;font-weight:bold}.ok{color:#38761d;font-weight:bold}
                code{font-family:monospace}
                .legend span{display:inline-block;margin-right:1em}
                .swatch{display:inline-block;width:1em;height:.6em;margin-right:.3em}
                </style></head><body>
                """);
        b.append("<h1>Your domains: TLS reports received</h1>\n<p><a href=\"/status\">Status"
                + "</a> · what other domains reported about mail they sent to yours (RFC 8460), "
                + "as tlsrpt-receiver stored it. Read ").append(reading.at()).append(".</p>\n");
        if (reading instanceof ReceivedReports.Reading.Unavailable u) {
            b.append("<p id=\"unavailable\">").append(StatusPage.esc(u.why())).append("</p>\n");
            return b.append("</body></html>\n").toString();
        }
        ReceivedReports.Reading.Read read = (ReceivedReports.Reading.Read) reading;
        ReceivedTotals t = read.totals();
        b.append("<p id=\"outcomes\">Reports taken in: ").append(t.outcomes().getOrDefault(
                "stored", 0L)).append(" stored, ").append(t.outcomes().getOrDefault("duplicate",
                0L)).append(" duplicate, ").append(t.outcomes().getOrDefault("rejected", 0L))
                .append(" rejected (in the quarantine).</p>\n");
        if (read.days().isEmpty()) {
            b.append("<p id=\"none\">No reports in the last ").append(ReceivedReports.DAYS)
                    .append(" days.</p>\n");
        }
        LocalDate last = LocalDate.ofInstant(read.at(), ZoneOffset.UTC);
        for (ReceivedSummary.Domain d : read.days()) {
            String id = "domain-" + d.domain().replaceAll("[^a-z0-9.-]", "_");
            b.append("<section id=\"").append(StatusPage.esc(id)).append("\">\n<h2>")
                    .append(StatusPage.esc(d.domain())).append("</h2>\n<p>")
                    .append(d.total().successful()).append(" successful, ")
                    .append(d.total().failed()).append(" failed sessions in ")
                    .append(d.reports()).append(" reports (").append(d.authenticated())
                    .append(" DKIM-authenticated).</p>\n");
            b.append(plot(d, last));
            b.append("<h3>Failures by result type</h3>\n");
            if (d.failuresByResult().isEmpty()) {
                b.append("<p class=\"ok\">None.</p>\n");
            } else {
                b.append("<table class=\"failures\">\n");
                for (Map.Entry<String, Long> e : d.failuresByResult().entrySet()) {
                    b.append("<tr><th scope=\"row\">").append(StatusPage.esc(e.getKey()))
                            .append("</th><td>").append(e.getValue()).append("</td></tr>\n");
                }
                b.append("</table>\n");
            }
            b.append("<h3>Latest audit</h3>\n");
            ReceivedTotals.Audit audit = t.audits().get(d.domain());
            if (audit == null) {
                b.append("<p>None yet: <code>tlsrpt-receiver rollout ")
                        .append(StatusPage.esc(d.domain())).append("</code> runs one.</p>\n");
            } else {
                b.append("<p class=\"").append(audit.exitCode() >= 2 ? "problem" : "ok")
                        .append("\">").append(audit.at()).append(": ")
                        .append(audit.exitCode() == 0 ? "ok" : audit.exitCode() == 1
                                ? "warnings" : "failures").append("</p>\n");
                if (!audit.lines().isEmpty()) {
                    b.append("<ul class=\"audit\">\n");
                    for (String l : audit.lines()) {
                        b.append("<li><code>").append(StatusPage.esc(l)).append("</code></li>\n");
                    }
                    b.append("</ul>\n");
                }
            }
            b.append("<h3>Reporters</h3>\n<table class=\"reporters\">\n<tr><th>organization"
                    + "</th><th>reports</th><th>last received</th></tr>\n");
            for (ReceivedSummary.Reporter r : d.reporters()) {
                b.append("<tr><td>").append(StatusPage.esc(r.organization())).append("</td><td>")
                        .append(r.reports()).append("</td><td>")
                        .append(Instant.ofEpochMilli(r.lastReceived())).append("</td></tr>\n");
            }
            b.append("</table>\n</section>\n");
        }
        return b.append("</body></html>\n").toString();
    }

    /** Success rate per day and policy type, 0-100 %, the last {@value ReceivedReports#DAYS} days. */
    static String plot(ReceivedSummary.Domain d, LocalDate last) {
        int days = ReceivedReports.DAYS;
        int width = 720;
        int height = 200;
        int left = 50;
        int bottom = 24;
        double plotW = width - left - 10;
        double plotH = height - bottom - 10;
        StringBuilder b = new StringBuilder();
        b.append("<svg class=\"rate\" role=\"img\" width=\"").append(width).append("\" height=\"")
                .append(height).append("\" viewBox=\"0 0 ").append(width).append(' ')
                .append(height).append("\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>"
                        + "Successful sessions per day, per cent, by policy type</title>\n");
        b.append("<line x1=\"").append(left).append("\" y1=\"10\" x2=\"").append(left)
                .append("\" y2=\"").append(height - bottom).append("\" stroke=\"#595959\"/>\n")
                .append("<line x1=\"").append(left).append("\" y1=\"").append(height - bottom)
                .append("\" x2=\"").append(width - 10).append("\" y2=\"").append(height - bottom)
                .append("\" stroke=\"#595959\"/>\n")
                .append("<text x=\"").append(left - 6).append("\" y=\"16\" text-anchor=\"end\" "
                        + "font-size=\"12\" fill=\"#1a1a1a\">100%</text>\n")
                .append("<text x=\"").append(left - 6).append("\" y=\"").append(height - bottom)
                .append("\" text-anchor=\"end\" font-size=\"12\" fill=\"#1a1a1a\">0%</text>\n");
        for (int back : new int[] {days - 1, 14, 7, 0}) {
            double x = left + plotW * (days - 1 - back) / (days - 1.0);
            b.append("<text x=\"").append(fmt(x)).append("\" y=\"").append(height - 6)
                    .append("\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1a1a1a\">")
                    .append(last.minusDays(back)).append("</text>\n");
        }
        StringBuilder legend = new StringBuilder("<p class=\"legend\">");
        for (int k = 0; k < TYPES.length; k++) {
            StringBuilder points = new StringBuilder();
            StringBuilder dots = new StringBuilder();
            long ok = 0;
            long all = 0;
            for (ReceivedSummary.Day day : d.days()) {
                ReceivedSummary.Counts c = day.byPolicyType().get(TYPES[k]);
                long back = last.toEpochDay() - day.day().toEpochDay();
                if (c == null || back < 0 || back >= days || c.successful() + c.failed() == 0) {
                    continue;
                }
                ok += c.successful();
                all += c.successful() + c.failed();
                double rate = (double) c.successful() / (c.successful() + c.failed());
                double x = left + plotW * (days - 1 - back) / (days - 1.0);
                double y = 10 + plotH - plotH * rate;
                points.append(fmt(x)).append(',').append(fmt(y)).append(' ');
                // A dot per day: a single day is no line.
                dots.append("<circle cx=\"").append(fmt(x)).append("\" cy=\"").append(fmt(y))
                        .append("\" r=\"2.5\" fill=\"").append(COLOURS[k]).append("\"><title>")
                        .append(day.day()).append(' ').append(TYPES[k]).append(": ")
                        .append(c.successful()).append(" ok, ").append(c.failed())
                        .append(" failed</title></circle>\n");
            }
            if (all == 0) {
                continue;
            }
            b.append("<polyline class=\"series\" data-type=\"").append(TYPES[k])
                    .append("\" fill=\"none\" stroke-width=\"2\" stroke=\"").append(COLOURS[k])
                    .append("\" points=\"").append(points.toString().strip()).append("\"/>\n")
                    .append(dots);
            legend.append("<span><span class=\"swatch\" style=\"background:").append(COLOURS[k])
                    .append("\"></span><span style=\"color:").append(COLOURS[k]).append("\">")
                    .append(TYPES[k]).append("</span>: ").append(String.format(Locale.ROOT,
                            "%.2f%%", 100.0 * ok / all)).append(" of ").append(all)
                    .append("</span>");
        }
        return b.append("</svg>\n").append(legend).append("</p>\n").toString();
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
