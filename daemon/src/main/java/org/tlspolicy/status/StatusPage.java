package org.tlspolicy.status;

import org.tlspolicy.metrics.AnswerHistory;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The operator's page (GET /status on the metrics listener): what the daemon answered over
 * the last day, how fast it resolves, what it holds, what is wrong now, and a domain search.
 * One self-contained HTML document: inline CSS and SVG, no script and nothing fetched from
 * elsewhere, so that it works on a relay with no internet and no browser extensions. Colours
 * keep a contrast of at least 4.5:1 against the white background (WCAG 2 AA), which the tests
 * check on the rendered page.
 */
public final class StatusPage {

    /** Series colours, in {@link AnswerHistory#KINDS} order. */
    static final String[] COLOURS = {"#0b5394", "#38761d", "#7f6000", "#674ea7", "#595959",
        "#a61c00"};

    /** Minutes per plotted point: 10, so 144 points over the day. */
    static final int BIN = 10;

    /**
     * What the page shows.
     *
     * @param serving     e.g. {@code map postfix on [inet:127.0.0.1:8461]}
     * @param problems    /health's problems (each a reason answers may be wrong now)
     * @param notices     /health's notices
     * @param dnssec      the DNSSEC self-check's state, in words
     * @param series      {@link AnswerHistory#series()}
     * @param lookups     lookups answered since start
     * @param resolutions of those, resolved rather than answered from memory
     * @param p50         resolution time quantiles, seconds (NaN: none yet)
     * @param cacheSizes  e.g. {@code mta-sts 120}, {@code dane 80}
     * @param deferred    domains answered TEMP now, with why
     * @param failing     domains whose refresh fails, with why
     * @param overrides   the operator's overrides, one line each
     * @param reports     yesterday's TLS-RPT summary lines, or why there is none
     * @param search      the domain searched for and what {@code cache show} says, if asked
     */
    public record Snapshot(Instant at, String version, String serving, List<String> problems,
                           List<String> notices, String dnssec, long[][] series, long lookups,
                           long resolutions, double p50, double p90, double p99,
                           List<String> cacheSizes, List<String> deferred, List<String> failing,
                           List<String> overrides, List<String> reports,
                           Optional<Search> search) {
    }

    /** A domain search and its result lines (or the error). */
    public record Search(String domain, List<String> lines) {
    }

    private StatusPage() {
    }

    /** The page. */
    public static String render(Snapshot s) {
        StringBuilder b = new StringBuilder(32_768);
        b.append("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <title>tlspolicyd status</title>
                <style>
                body{font-family:sans-serif;color:#1a1a1a;background:#ffffff;margin:1.5em;
                  max-width:70em}
                h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}
                table{border-collapse:collapse}
                td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #cccccc}
                .problem{color:#a61c00;font-weight:bold}.ok{color:#38761d;font-weight:bold}
                code,pre{font-family:monospace}pre{white-space:pre-wrap}
                .legend span{display:inline-block;margin-right:1em}
                .swatch{display:inline-block;width:1em;height:.6em;margin-right:.3em}
                </style></head><body>
                """);
        b.append("<h1>tlspolicyd status</h1>\n<p>").append(esc(s.version())).append(", serving ")
                .append(esc(s.serving())).append(". Page made ").append(s.at()).append(". "
                        + "<a href=\"/domains\">Your domains</a>: the TLS reports others sent "
                        + "you.</p>\n");

        b.append("<h2>Health</h2>\n");
        if (s.problems().isEmpty()) {
            b.append("<p class=\"ok\" id=\"health\">Healthy: nothing stands in the way of right "
                    + "answers.</p>\n");
        } else {
            b.append("<ul id=\"health\">\n");
            s.problems().forEach(p -> b.append("<li class=\"problem\">").append(esc(p))
                    .append("</li>\n"));
            b.append("</ul>\n");
        }
        s.notices().forEach(n -> b.append("<p>Notice: ").append(esc(n)).append("</p>\n"));
        b.append("<p id=\"dnssec\">DNSSEC self-check: ").append(esc(s.dnssec())).append("</p>\n");

        b.append("<h2>Answers per minute, last 24 hours</h2>\n");
        b.append(plot(s.series()));

        b.append("<h2>Resolution and cache</h2>\n<table>\n");
        row(b, "lookups answered since start", Long.toString(s.lookups()));
        row(b, "answered from memory", s.lookups() == 0 ? "no lookups yet" : String.format(
                Locale.ROOT, "%.1f%%", 100.0 * Math.max(0, s.lookups() - s.resolutions())
                        / s.lookups()));
        row(b, "resolution time p50 / p90 / p99", seconds(s.p50()) + " / " + seconds(s.p90())
                + " / " + seconds(s.p99()) + " (upper bounds of the histogram's buckets)");
        s.cacheSizes().forEach(c -> row(b, "cached in memory", c));
        b.append("</table>\n");

        list(b, "Deferred now (TEMP)", "deferred", s.deferred(), "No domain is deferred.");
        list(b, "Failing refresh", "failing", s.failing(), "No refresh is failing.");
        list(b, "Overrides", "overrides", s.overrides(), "No overrides configured.");
        list(b, "TLS reports, yesterday (tlsrpt-sender)", "reports", s.reports(),
                "Nothing to show.");

        b.append("<h2>Look up a domain</h2>\n<form method=\"get\" action=\"/status\">\n"
                + "<label for=\"domain\">Domain</label>\n<input id=\"domain\" name=\"domain\" "
                + "type=\"text\" size=\"40\"");
        s.search().ifPresent(q -> b.append(" value=\"").append(esc(q.domain())).append('"'));
        b.append(">\n<button type=\"submit\">Show</button>\n</form>\n");
        s.search().ifPresent(q -> {
            b.append("<pre id=\"search\">");
            q.lines().forEach(l -> b.append(esc(l)).append('\n'));
            b.append("</pre>\n");
        });
        b.append("</body></html>\n");
        return b.toString();
    }

    /**
     * The day's answers as an SVG line chart: one line per kind of answer, averaged over
     * {@link #BIN} minutes, the newest on the right; a legend gives each line's total.
     */
    static String plot(long[][] series) {
        int kinds = series.length;
        int points = AnswerHistory.MINUTES / BIN;
        double[][] perMinute = new double[kinds][points];
        double max = 1;
        long[] totals = new long[kinds];
        for (int k = 0; k < kinds; k++) {
            for (int i = 0; i < AnswerHistory.MINUTES; i++) {
                perMinute[k][i / BIN] += series[k][i] / (double) BIN;
                totals[k] += series[k][i];
            }
            for (double v : perMinute[k]) {
                max = Math.max(max, v);
            }
        }
        int width = 960;
        int height = 240;
        int left = 60;
        int bottom = 24;
        double plotW = width - left - 10;
        double plotH = height - bottom - 10;
        StringBuilder b = new StringBuilder();
        b.append("<svg id=\"answers\" role=\"img\" aria-labelledby=\"answers-title\" width=\"")
                .append(width).append("\" height=\"").append(height)
                .append("\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" xmlns=\"http://www.w3.org/2000/svg\">\n")
                .append("<title id=\"answers-title\">Answers per minute by kind over the last "
                        + "24 hours, ").append(BIN).append("-minute averages</title>\n");
        // Axes and labels: the maximum, zero, and the hours.
        b.append("<line x1=\"").append(left).append("\" y1=\"10\" x2=\"").append(left)
                .append("\" y2=\"").append(height - bottom).append("\" stroke=\"#595959\"/>\n")
                .append("<line x1=\"").append(left).append("\" y1=\"").append(height - bottom)
                .append("\" x2=\"").append(width - 10).append("\" y2=\"").append(height - bottom)
                .append("\" stroke=\"#595959\"/>\n");
        b.append("<text x=\"").append(left - 6).append("\" y=\"16\" text-anchor=\"end\" "
                + "font-size=\"12\" fill=\"#1a1a1a\">").append(format(max)).append("/min</text>\n")
                .append("<text x=\"").append(left - 6).append("\" y=\"").append(height - bottom)
                .append("\" text-anchor=\"end\" font-size=\"12\" fill=\"#1a1a1a\">0</text>\n");
        for (int h = 24; h >= 0; h -= 6) {
            double x = left + plotW * (24 - h) / 24.0;
            b.append("<text x=\"").append(format(x)).append("\" y=\"").append(height - 6)
                    .append("\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1a1a1a\">")
                    .append(h == 0 ? "now" : "-" + h + " h").append("</text>\n");
        }
        for (int k = 0; k < kinds; k++) {
            b.append("<polyline class=\"series\" data-kind=\"")
                    .append(AnswerHistory.KINDS[k]).append("\" data-total=\"").append(totals[k])
                    .append("\" fill=\"none\" stroke-width=\"1.5\" stroke=\"")
                    .append(COLOURS[k]).append("\" points=\"");
            for (int i = 0; i < points; i++) {
                double x = left + plotW * i / (points - 1);
                double y = 10 + plotH - plotH * perMinute[k][i] / max;
                b.append(format(x)).append(',').append(format(y)).append(' ');
            }
            b.append("\"/>\n");
        }
        b.append("</svg>\n<p class=\"legend\">");
        for (int k = 0; k < kinds; k++) {
            b.append("<span><span class=\"swatch\" style=\"background:").append(COLOURS[k])
                    .append("\"></span><span style=\"color:").append(COLOURS[k]).append("\">")
                    .append(esc(AnswerHistory.KINDS[k])).append("</span>: ").append(totals[k])
                    .append("</span>");
        }
        b.append("</p>\n");
        return b.toString();
    }

    private static void row(StringBuilder b, String what, String value) {
        b.append("<tr><th scope=\"row\">").append(esc(what)).append("</th><td>")
                .append(esc(value)).append("</td></tr>\n");
    }

    private static void list(StringBuilder b, String title, String id, List<String> items,
                             String none) {
        b.append("<h2>").append(esc(title)).append("</h2>\n");
        if (items.isEmpty()) {
            b.append("<p id=\"").append(id).append("\">").append(esc(none)).append("</p>\n");
            return;
        }
        b.append("<ul id=\"").append(id).append("\">\n");
        items.forEach(i -> b.append("<li><code>").append(esc(i)).append("</code></li>\n"));
        b.append("</ul>\n");
    }

    private static String seconds(double s) {
        if (Double.isNaN(s)) {
            return "none yet";
        }
        if (Double.isInfinite(s)) {
            return "over 30 s";
        }
        return s < 1 ? Math.round(s * 1000) + " ms" : format(s) + " s";
    }

    private static String format(double v) {
        return v == Math.rint(v) ? Long.toString((long) v)
                : String.format(Locale.ROOT, "%.1f", v);
    }

    /** HTML text and attribute escaping. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
