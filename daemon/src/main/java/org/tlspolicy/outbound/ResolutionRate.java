package org.tlspolicy.outbound;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * How many new domains someone waits for (a domain's DANE and MTA-STS status from the network,
 * for a lookup memory cannot answer) may start resolving per second: a token bucket, {@code
 * perSecond} tokens a second, {@code burst} at most in store. A domain takes one token for both
 * its resolutions (DANE and MTA-STS, which start together: whichever asks second within ten
 * seconds shares the first one's turn). A domain over the rate waits its turn, first come first
 * served; none is dropped. It bounds the work (CPU, sockets, queries) that a client asking for
 * thousands of new domains can cause, so that lookups of known domains, answered from memory,
 * keep their pace. Postfix's own cold lookups are a few a second on a busy relay, far below
 * the default; the burst lets a first contact with many domains at once (a relay's start, a
 * newsletter to new domains) go at the network's pace (bench/run-burst: 1,000 new domains
 * at once, docs/performance.md), the outbound caps bounding what runs at the same time.
 *
 * <p>Refreshes of results in use do not take a turn here. They are bounded otherwise (in
 * flight at most 64 per cache, and only results in use are refreshed, each once per lifetime,
 * so their number follows what was admitted at this rate), and making them queue behind a flood
 * of new domains would let known domains' results outlive their stale bounds, so that their
 * lookups too would wait for the network.
 */
public final class ResolutionRate implements AutoCloseable {

    /** How many seconds' worth of tokens the bucket holds: the default burst. */
    public static final int BURST_SECONDS = 10;

    private final double perSecond;
    private final double burst;
    private final Cache<String, CompletableFuture<Void>> admitted = Caffeine.newBuilder()
            .expireAfterWrite(Duration.ofSeconds(10))
            .maximumSize(100_000)
            .build();
    private final ArrayDeque<CompletableFuture<Void>> waiters = new ArrayDeque<>();
    private final ScheduledExecutorService timer;
    private double tokens;
    private long last = System.nanoTime();
    private boolean wakeScheduled;

    private ResolutionRate(double perSecond, double burst, ScheduledExecutorService timer) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.tokens = burst;
        this.timer = timer;
    }

    /**
     * {@code perSecond} new domains a second, and {@value #BURST_SECONDS} times as many at once
     * after a quiet spell.
     */
    public static ResolutionRate of(int perSecond) {
        return of(perSecond, perSecond * BURST_SECONDS);
    }

    /** {@code perSecond} new domains a second, {@code burst} at once after a quiet spell. */
    public static ResolutionRate of(int perSecond, int burst) {
        if (perSecond < 1 || burst < 1) {
            throw new IllegalArgumentException("at least one resolution a second and at once");
        }
        return new ResolutionRate(perSecond, burst, Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "resolution-rate");
            t.setDaemon(true);
            return t;
        }));
    }

    /** No limit (tests, one-off commands). */
    public static ResolutionRate unlimited() {
        return new ResolutionRate(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, null);
    }

    /**
     * Completes when {@code domain} may start resolving: at once, or after those that waited
     * before; a second call for the same domain within ten seconds shares the first one's turn.
     */
    public CompletableFuture<Void> acquire(String domain) {
        if (timer == null) {
            return CompletableFuture.completedFuture(null);
        }
        return admitted.get(domain, d -> acquire());
    }

    /** Completes when a resolution may start: at once, or after those that waited before. */
    public CompletableFuture<Void> acquire() {
        if (timer == null) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (this) {
            refill();
            if (waiters.isEmpty() && tokens >= 1) {
                tokens -= 1;
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            waiters.add(f);
            scheduleWake();
            return f;
        }
    }

    /** Resolutions waiting for their turn now. */
    public synchronized int waiting() {
        return waiters.size();
    }

    /** Stops its timer; whoever still waits is let go (a daemon stopping). */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            List<CompletableFuture<Void>> left = new ArrayList<>();
            synchronized (this) {
                left.addAll(waiters);
                waiters.clear();
            }
            left.forEach(f -> f.complete(null));
        }
    }

    private void refill() {
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - last) / 1e9 * perSecond);
        last = now;
    }

    private void scheduleWake() {
        if (wakeScheduled) {
            return;
        }
        wakeScheduled = true;
        long nanos = (long) Math.max(0, (1 - tokens) / perSecond * 1e9);
        timer.schedule(this::wake, Math.max(nanos, 1_000_000), TimeUnit.NANOSECONDS);
    }

    private void wake() {
        ArrayDeque<CompletableFuture<Void>> go = new ArrayDeque<>();
        synchronized (this) {
            wakeScheduled = false;
            refill();
            while (!waiters.isEmpty() && tokens >= 1) {
                tokens -= 1;
                go.add(waiters.poll());
            }
            if (!waiters.isEmpty()) {
                scheduleWake();
            }
        }
        // Outside the lock: their continuations start resolutions.
        go.forEach(f -> f.complete(null));
    }
}
