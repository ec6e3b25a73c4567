package org.tlspolicy.outbound;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How many outbound sockets (a DNS query's, a policy fetch's) may be open at once: a budget
 * drawn from the process's file descriptor limit, so that no load of lookups can exhaust it
 * (a client pipelining thousands of new domains once made the daemon fail with "Too many open
 * files" for everyone). Work over the budget waits, first come first served; it is never
 * dropped. Waiting costs a future, not a file descriptor.
 */
public final class SocketBudget {

    /** Descriptors kept for everything else: jars, the store, logs, listeners, epoll. */
    static final int RESERVE = 256;
    /** Outbound sockets at most, whatever the limit: more never made lookups faster. */
    static final int MAX_OUTBOUND = 1024;
    /** And at least, however tight the limit (the start-up log says when it is too tight). */
    static final int MIN_OUTBOUND = 8;

    /** A socket's right to exist; released once, by whoever ends its use. */
    public static final class Permit {
        private final SocketBudget budget;
        private final AtomicBoolean released = new AtomicBoolean();

        private Permit(SocketBudget budget) {
            this.budget = budget;
        }

        public void release() {
            if (released.compareAndSet(false, true)) {
                budget.release();
            }
        }
    }

    private final String name;
    private final int size;
    private final ArrayDeque<CompletableFuture<Permit>> waiters = new ArrayDeque<>();
    private int inUse;

    public SocketBudget(String name, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("a budget needs at least one socket");
        }
        this.name = name;
        this.size = size;
    }

    /** A budget that never makes anyone wait (tests, one-off commands). */
    public static SocketBudget unlimited(String name) {
        return new SocketBudget(name, Integer.MAX_VALUE);
    }

    /**
     * The outbound sockets the file descriptor limit leaves once {@code maxConnections}
     * incoming connections and a reserve are counted, between {@value #MIN_OUTBOUND} and
     * {@value #MAX_OUTBOUND}.
     */
    public static int outboundFor(long fdLimit, int maxConnections) {
        long left = fdLimit - RESERVE - maxConnections;
        return (int) Math.max(MIN_OUTBOUND, Math.min(MAX_OUTBOUND, left));
    }

    /** This process's file descriptor limit, or 4096 where the JVM cannot tell. */
    public static long fdLimit() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return 4096;
    }

    /** Completes with a permit as soon as one is free: at once, or after earlier waiters. */
    public CompletableFuture<Permit> acquire() {
        synchronized (this) {
            if (inUse < size && waiters.isEmpty()) {
                inUse++;
                return CompletableFuture.completedFuture(new Permit(this));
            }
            CompletableFuture<Permit> f = new CompletableFuture<>();
            waiters.add(f);
            return f;
        }
    }

    private void release() {
        CompletableFuture<Permit> next;
        synchronized (this) {
            next = waiters.poll();
            if (next == null) {
                inUse--;
                return;
            }
        }
        // The socket passes on: inUse stays. Completed outside the lock (its continuation
        // may take another permit).
        next.complete(new Permit(this));
    }

    public String name() {
        return name;
    }

    public int size() {
        return size;
    }

    public synchronized int inUse() {
        return inUse;
    }

    public synchronized int waiting() {
        return waiters.size();
    }
}
