package org.tlspolicy.dns;

import org.tlspolicy.outbound.SocketBudget;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TSIG;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;

/**
 * A resolver (one server's) whose queries each hold a permit of a {@link SocketBudget} while
 * they are on the wire: dnsjava opens a socket per attempt (UDP, or TCP after truncation), so
 * the budget, around each attempt, bounds DNS sockets, the validator's own queries (DNSKEY,
 * DS) and retries included.
 */
final class BudgetedResolver implements Resolver {

    /**
     * Where dnsjava completes the futures of queries sent without an executor. Its default is
     * the common ForkJoinPool; on a machine with two cores that pool has a parallelism of 1,
     * and CompletableFuture then starts a new thread for every completion run "in" it (a JFR
     * profile of bench/run-cached showed a thread created per DNS answer). One thread of
     * our own: what runs here is parsing and deciding, never a wait.
     */
    static final ExecutorService COMPLETIONS = Executors.newSingleThreadExecutor(task -> {
        Thread t = new Thread(task, "dns-completion");
        t.setDaemon(true);
        return t;
    });

    /**
     * How long a failed query keeps its permit after dnsjava gave up on it. dnsjava closes a
     * timed-out query's channel on its selector thread, all the queries of a tick at once; the
     * JDK closes a selector-registered channel's descriptor only at that selector's next
     * select, after the futures have completed. Handed on at once, the permits opened as many
     * new sockets while the old descriptors were still open: a silent resolver under a
     * pipelined burst doubled the DNS sockets at every tick (peak 287 descriptors for a
     * budget of 150; issue 32 §5). The next select follows within milliseconds.
     */
    static final long CLOSE_GRACE_MILLIS = 100;

    private static final ScheduledExecutorService LATER =
            Executors.newSingleThreadScheduledExecutor(task -> {
                Thread t = new Thread(task, "dns-permit-release");
                t.setDaemon(true);
                return t;
            });

    private final Resolver delegate;
    private final SocketBudget budget;

    BudgetedResolver(Resolver delegate, SocketBudget budget) {
        this.delegate = delegate;
        this.budget = budget;
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query) {
        return sendAsync(query, COMPLETIONS);
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query, Executor executor) {
        return budget.acquire().thenCompose(permit -> {
            CompletableFuture<Message> sent;
            try {
                sent = delegate.sendAsync(query, executor).toCompletableFuture();
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            return sent.whenComplete((m, e) -> {
                if (e == null) {
                    permit.release();
                } else {
                    LATER.schedule(permit::release, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
                }
            });
        });
    }

    @Override
    public void setPort(int port) {
        delegate.setPort(port);
    }

    @Override
    public void setTCP(boolean flag) {
        delegate.setTCP(flag);
    }

    @Override
    public void setIgnoreTruncation(boolean flag) {
        delegate.setIgnoreTruncation(flag);
    }

    @Override
    public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
        delegate.setEDNS(version, payloadSize, flags, options);
    }

    @Override
    public void setTSIGKey(TSIG key) {
        delegate.setTSIGKey(key);
    }

    @Override
    public void setTimeout(Duration timeout) {
        delegate.setTimeout(timeout);
    }

    @Override
    public Duration getTimeout() {
        return delegate.getTimeout();
    }
}
