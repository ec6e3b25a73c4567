package org.tlspolicy.metrics;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * At most one log line of a kind per interval, so that a client repeating a mistake (or an
 * attack: a thousand slowloris connections) cannot flood the journal, while the operator still
 * learns how often it happened: the next line that may be logged carries the number of lines
 * held back since the last one ({@code suppressed=N}).
 */
public final class LogThrottle {

    private final long intervalNanos;
    private final AtomicLong nextAllowed;
    private final AtomicLong suppressed = new AtomicLong();

    public LogThrottle(long interval, TimeUnit unit) {
        this.intervalNanos = unit.toNanos(interval);
        this.nextAllowed = new AtomicLong(System.nanoTime());
    }

    /** One line a minute. */
    public static LogThrottle perMinute() {
        return new LogThrottle(1, TimeUnit.MINUTES);
    }

    /**
     * Whether a line may be logged now: the number of lines held back before it (0 or more),
     * or -1 if this one is to be held back (and counted).
     */
    public long permit() {
        long now = System.nanoTime();
        long next = nextAllowed.get();
        if (now - next >= 0 && nextAllowed.compareAndSet(next, now + intervalNanos)) {
            return suppressed.getAndSet(0);
        }
        suppressed.incrementAndGet();
        return -1;
    }
}
