package org.tlspolicy.metrics;

import org.tlspolicy.socketmap.SocketmapReply;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Answers per minute over the last 24 hours, by kind of answer, for the status page's plot:
 * a ring of 1440 minutes. Counting is a {@link LongAdder} increment (every lookup counts);
 * the first count of a new minute clears that minute's slot, which last held the same minute
 * a day before.
 */
public final class AnswerHistory {

    /** Minutes kept. */
    public static final int MINUTES = 24 * 60;

    /** The kinds of answer, in plot order. */
    public static final String[] KINDS = {"dane-only", "dane", "secure", "other policy",
        "NOTFOUND", "TEMP"};

    private final LongAdder[] counts = new LongAdder[MINUTES * KINDS.length];
    /** The minute (since the epoch) each slot counts; -1: none yet. */
    private final AtomicLongArray minutes = new AtomicLongArray(MINUTES);
    private final LongSupplier clock;

    /** @param clock epoch milliseconds */
    public AnswerHistory(LongSupplier clock) {
        this.clock = clock;
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
        for (int i = 0; i < MINUTES; i++) {
            minutes.set(i, -1);
        }
    }

    /** Counts one answer. */
    public void add(SocketmapReply reply) {
        int kind = kind(reply);
        if (kind < 0) {
            return;
        }
        long minute = clock.getAsLong() / 60_000;
        int slot = (int) (minute % MINUTES);
        if (minutes.get(slot) != minute) {
            roll(slot, minute);
        }
        counts[slot * KINDS.length + kind].increment();
    }

    private synchronized void roll(int slot, long minute) {
        if (minutes.get(slot) == minute) {
            return;
        }
        for (int k = 0; k < KINDS.length; k++) {
            counts[slot * KINDS.length + k].reset();
        }
        minutes.set(slot, minute);
    }

    /** The kind of {@code reply}, an index into {@link #KINDS}; -1 for PERM (not counted). */
    static int kind(SocketmapReply reply) {
        if (reply instanceof SocketmapReply.Ok ok) {
            String p = ok.data();
            return p.startsWith("dane-only") ? 0 : p.startsWith("dane") ? 1
                    : p.startsWith("secure") ? 2 : 3;
        }
        if (reply instanceof SocketmapReply.NotFound) {
            return 4;
        }
        return reply instanceof SocketmapReply.Perm ? -1 : 5;
    }

    /**
     * The last 24 hours, oldest minute first: {@code [kind][minute]}; the last minute is the
     * current one (still counting).
     */
    public long[][] series() {
        long now = clock.getAsLong() / 60_000;
        long[][] out = new long[KINDS.length][MINUTES];
        for (int i = 0; i < MINUTES; i++) {
            long minute = now - (MINUTES - 1) + i;
            int slot = (int) (minute % MINUTES);
            if (minutes.get(slot) == minute) {
                for (int k = 0; k < KINDS.length; k++) {
                    out[k][i] = counts[slot * KINDS.length + k].sum();
                }
            }
        }
        return out;
    }
}
