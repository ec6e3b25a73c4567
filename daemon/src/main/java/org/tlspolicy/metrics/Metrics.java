package org.tlspolicy.metrics;

import org.tlspolicy.socketmap.SocketmapReply;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The daemon's counters, in the Prometheus text exposition format (version 0.0.4) when
 * rendered. Counting costs a {@link LongAdder} increment, cheap enough for every lookup; label
 * values come from small fixed sets (reply status, policy source, result kinds), never from
 * domains, so the number of series stays bounded.
 */
public final class Metrics {

    /** Resolution latency buckets, seconds: a cached answer is microseconds, a cold one 10-1000 ms. */
    private static final double[] BUCKETS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
        2.5, 5, 10, 30};

    private static final String[] STATUSES = {"ok", "notfound", "temp", "timeout", "perm"};
    private static final String[] SOURCES = {"dane", "mta-sts", "none"};

    private final LongAdder[] lookups = new LongAdder[STATUSES.length * SOURCES.length];
    private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
    private final LongAdder[] buckets = new LongAdder[BUCKETS.length + 1];
    private final LongAdder resolutionCount = new LongAdder();
    private final LongAdder resolutionNanos = new LongAdder();
    private final Map<String, LongSupplier> gauges = new ConcurrentHashMap<>();
    private final LongAdder staleDane = new LongAdder();
    private final LongAdder staleSts = new LongAdder();
    /** Family name → {type, help} of the series read from suppliers. */
    private final Map<String, String[]> families = new ConcurrentHashMap<>();

    private final AnswerHistory history;

    public Metrics() {
        this(System::currentTimeMillis);
    }

    /** Metrics whose answer history reads {@code clock} (epoch milliseconds). */
    public Metrics(java.util.function.LongSupplier clock) {
        this.history = new AnswerHistory(clock);
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
        for (int i = 0; i < lookups.length; i++) {
            lookups[i] = new LongAdder();
        }
    }

    /**
     * A lookup answered with {@code reply} from {@code source} (dane, mta-sts, or anything else:
     * none). On the hot path: no allocation.
     */
    public void lookup(SocketmapReply reply, String source) {
        int s = reply instanceof SocketmapReply.Ok ? 0
                : reply instanceof SocketmapReply.NotFound ? 1
                : reply instanceof SocketmapReply.Temp ? 2
                : reply instanceof SocketmapReply.Timeout ? 3 : 4;
        int src = "dane".equals(source) ? 0 : "mta-sts".equals(source) ? 1 : 2;
        lookups[s * SOURCES.length + src].increment();
        history.add(reply);
    }

    /** Answers per minute over the last day, for the status page. */
    public AnswerHistory history() {
        return history;
    }

    /** Lookups answered since start. */
    public long lookups() {
        long n = 0;
        for (LongAdder a : lookups) {
            n += a.sum();
        }
        return n;
    }

    /** Lookups that had to be resolved (not answered from memory) since start. */
    public long resolutions() {
        return resolutionCount.sum();
    }

    /**
     * The resolution time under which a fraction {@code q} of resolutions finished, in
     * seconds, as the upper bound of the histogram bucket it falls in; +Inf beyond the last,
     * NaN with none.
     */
    public double resolutionQuantile(double q) {
        long total = resolutionCount.sum();
        if (total == 0) {
            return Double.NaN;
        }
        long cumulative = 0;
        for (int i = 0; i < buckets.length; i++) {
            cumulative += buckets[i].sum();
            if (cumulative >= Math.ceil(q * total)) {
                return i < BUCKETS.length ? BUCKETS[i] : Double.POSITIVE_INFINITY;
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    /** A decision that had to be resolved (not from memory), and how long it took. */
    public void resolution(long nanos) {
        resolutionCount.increment();
        resolutionNanos.add(nanos);
        double seconds = nanos / 1e9;
        int i = 0;
        while (i < BUCKETS.length && seconds > BUCKETS[i]) {
            i++;
        }
        buckets[i].increment();
    }

    /** An MTA-STS resolution's result: found, absent, unavailable, or an RFC 8460 failure type. */
    public void stsResult(String result, boolean background) {
        count("tlspolicyd_mta_sts_resolutions_total{result=\"" + result + "\",background=\""
                + background + "\"}");
    }

    /** A DANE resolution's result: applies, not-applicable, null-mx, bogus or indeterminate. */
    public void daneResult(String result, boolean background) {
        count("tlspolicyd_dane_resolutions_total{result=\"" + result + "\",background=\""
                + background + "\"}");
    }

    /**
     * A lookup answered from a result past its TTL while a background resolution replaces it
     * ({@code cache}: dane or mta-sts).
     */
    public void staleAnswer(String cache) {
        // On the lookup path while results are stale: no string built, no map searched.
        ("dane".equals(cache) ? staleDane : staleSts).increment();
    }

    /**
     * A value read when rendered, e.g. a cache's size: {@code series} is a name with its labels,
     * {@code help} describes the family (the name before the labels).
     */
    public void gauge(String series, String help, LongSupplier value) {
        register(series, "gauge", help, value);
    }

    /** As {@link #gauge}, for a value that only grows (Prometheus type counter). */
    public void counter(String series, String help, LongSupplier value) {
        register(series, "counter", help, value);
    }

    private void register(String series, String type, String help, LongSupplier value) {
        int brace = series.indexOf('{');
        families.putIfAbsent(brace < 0 ? series : series.substring(0, brace),
                new String[] {type, help});
        gauges.put(series, value);
    }

    private void count(String series) {
        counters.computeIfAbsent(series, s -> new LongAdder()).increment();
    }

    /** The exposition text. */
    public String render() {
        StringBuilder b = new StringBuilder();
        b.append("# HELP tlspolicyd_lookups_total Lookups answered, by reply status and policy "
                + "source.\n# TYPE tlspolicyd_lookups_total counter\n");
        for (int i = 0; i < lookups.length; i++) {
            b.append("tlspolicyd_lookups_total{reply=\"").append(STATUSES[i / SOURCES.length])
                    .append("\",source=\"").append(SOURCES[i % SOURCES.length]).append("\"} ")
                    .append(lookups[i].sum()).append('\n');
        }
        family(b, "tlspolicyd_mta_sts_resolutions_total", "counter",
                "MTA-STS resolutions (TXT, policy fetch) by result; background: refreshes.");
        family(b, "tlspolicyd_dane_resolutions_total", "counter",
                "DANE resolutions (MX, TLSA) by result; background: refreshes.");
        b.append("# HELP tlspolicyd_stale_answers_total Lookups answered from a result past "
                + "its TTL, while it was being resolved again, by cache.\n"
                + "# TYPE tlspolicyd_stale_answers_total counter\n"
                + "tlspolicyd_stale_answers_total{cache=\"dane\"} ").append(staleDane.sum())
                .append("\ntlspolicyd_stale_answers_total{cache=\"mta-sts\"} ")
                .append(staleSts.sum()).append('\n');
        b.append("# HELP tlspolicyd_resolution_seconds Time to decide lookups not answered "
                + "from memory.\n# TYPE tlspolicyd_resolution_seconds histogram\n");
        long cumulative = 0;
        for (int i = 0; i < buckets.length; i++) {
            cumulative += buckets[i].sum();
            b.append("tlspolicyd_resolution_seconds_bucket{le=\"")
                    .append(i < BUCKETS.length ? Double.toString(BUCKETS[i]) : "+Inf")
                    .append("\"} ").append(cumulative).append('\n');
        }
        b.append("tlspolicyd_resolution_seconds_sum ").append(resolutionNanos.sum() / 1e9)
                .append('\n').append("tlspolicyd_resolution_seconds_count ")
                .append(resolutionCount.sum()).append('\n');
        List<String> familyNames = new ArrayList<>(families.keySet());
        familyNames.sort(null);
        List<String> names = new ArrayList<>(gauges.keySet());
        names.sort(null);
        for (String family : familyNames) {
            String[] typeHelp = families.get(family);
            b.append("# HELP ").append(family).append(' ').append(typeHelp[1]).append('\n')
                    .append("# TYPE ").append(family).append(' ').append(typeHelp[0])
                    .append('\n');
            for (String g : names) {
                if (g.equals(family) || g.startsWith(family + "{")) {
                    b.append(g).append(' ').append(gauges.get(g).getAsLong()).append('\n');
                }
            }
        }
        return b.toString();
    }

    private void family(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
        List<String> series = new ArrayList<>();
        for (String s : counters.keySet()) {
            if (s.startsWith(name + "{")) {
                series.add(s);
            }
        }
        series.sort(null);
        for (String s : series) {
            b.append(s).append(' ').append(counters.get(s).sum()).append('\n');
        }
    }
}
