package org.tlspolicy.socketmap;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.metrics.LogThrottle;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Answers the requests of one connection, in the order they arrived.
 *
 * <p>Postfix sends one request at a time, but a client may pipeline, and lookups finish in any
 * order; replies are queued and written strictly in request order. At most {@link
 * SocketmapLimits#maxPipelined()} of a connection's requests are being looked up at once:
 * requests beyond that (already read, as one read can hold many) wait, unlooked-up, until
 * earlier ones are answered, and the connection is not read from meanwhile (backpressure, not
 * unbounded buffering or unbounded work). A malformed request is answered PERM after all
 * earlier replies, then the connection is closed.
 *
 * <p>A request begun and not finished within {@link SocketmapLimits#requestTimeout()} closes the
 * connection (a stalled client costs a file descriptor and nothing else), but that clock runs
 * only while we are reading from the client: bytes of a request that wait in the socket while
 * we hold the client back are ours to read, not the client's to send.
 */
public final class SocketmapHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(SocketmapHandler.class);
    private static final LogThrottle MALFORMED = LogThrottle.perMinute();
    private static final LogThrottle STALLED = LogThrottle.perMinute();

    private final SocketmapTable table;
    private final SocketmapDecoder decoder;
    private final SocketmapLimits limits;
    private final AtomicInteger inFlight;
    private final SocketmapServer.Counters counters;
    /** Requests being looked up (or answered at once but not yet written), in order. */
    private final ArrayDeque<CompletableFuture<SocketmapReply>> pending = new ArrayDeque<>();
    /** Requests read but not yet looked up: over the pipelining limit. */
    private final ArrayDeque<SocketmapFrame> waiting = new ArrayDeque<>();
    private boolean closeAfterDrain;
    private ScheduledFuture<?> stallTimer;
    private ConnectionActivity activity = new ConnectionActivity("unknown");

    /**
     * @param inFlight counts lookups still unanswered across all connections, so a shutdown can
     *                 wait for them
     */
    public SocketmapHandler(SocketmapTable table, SocketmapDecoder decoder, SocketmapLimits limits,
                            AtomicInteger inFlight) {
        this(table, decoder, limits, inFlight, new SocketmapServer.Counters());
    }

    SocketmapHandler(SocketmapTable table, SocketmapDecoder decoder, SocketmapLimits limits,
                     AtomicInteger inFlight, SocketmapServer.Counters counters) {
        this.table = table;
        this.decoder = decoder;
        this.limits = limits;
        this.inFlight = inFlight;
        this.counters = counters;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ConnectionActivity a = ctx.channel().attr(ConnectionActivity.KEY).get();
        if (a != null) {
            activity = a;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closeAfterDrain) {
            return;
        }
        waiting.add((SocketmapFrame) msg);
        activity.requested(pending.size() + waiting.size());
        dispatch(ctx);
        if (pending.size() + waiting.size() >= limits.maxPipelined()) {
            ctx.channel().config().setAutoRead(false);
            cancelStallTimer(); // not reading: nothing to wait for from the client now
        }
    }

    /** Starts lookups for waiting requests while the connection is under its limit. */
    private void dispatch(ChannelHandlerContext ctx) {
        while (!waiting.isEmpty() && !closeAfterDrain
                && pending.size() < limits.maxPipelined()) {
            SocketmapFrame frame = waiting.poll();
            CompletableFuture<SocketmapReply> reply;
            if (frame instanceof SocketmapFrame.Request request) {
                reply = lookup(request);
            } else {
                String reason = ((SocketmapFrame.Malformed) frame).reason();
                counters.malformed.increment();
                long suppressed = MALFORMED.permit();
                if (suppressed >= 0) {
                    log.info("malformed request peer={} reason=\"{}\" suppressed={}",
                            ctx.channel().remoteAddress(), reason, suppressed);
                }
                reply = CompletableFuture.completedFuture(new SocketmapReply.Perm(reason));
                closeAfterDrain = true;
                waiting.clear();
            }
            if (pending.isEmpty() && reply.isDone()) {
                // The common case: answered without waiting. Flushed in channelReadComplete
                // (or by drain), so pipelined requests of one read leave in one write. No
                // promise per reply (nothing listens to it): a write that fails reaches
                // exceptionCaught, which closes the connection.
                ctx.write(reply.join(), ctx.voidPromise());
                if (closeAfterDrain) {
                    flushAndClose(ctx);
                }
                continue;
            }
            pending.add(reply);
            inFlight.incrementAndGet();
            reply.whenComplete((r, e) -> ctx.executor().execute(() -> drain(ctx)));
        }
        activity.outstanding(pending.size() + waiting.size());
    }

    private CompletableFuture<SocketmapReply> lookup(SocketmapFrame.Request request) {
        CompletableFuture<SocketmapReply> reply;
        try {
            reply = table.lookup(request.mapName(), request.key());
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        if (reply.isDone() && !reply.isCompletedExceptionally()) {
            return reply;
        }
        // A copy: the table may hand the same future to every request for one domain, and our
        // timeout must not complete theirs.
        return reply.copy()
                .completeOnTimeout(new SocketmapReply.Timeout("lookup took longer than "
                                + limits.lookupTimeout().toMillis() + " ms"),
                        limits.lookupTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .exceptionally(e -> {
                    log.error("lookup failed key=\"{}\"", request.key(), e);
                    return new SocketmapReply.Temp("internal error");
                });
    }

    private void drain(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive()) {
            return;
        }
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peek().isDone()) {
            ctx.write(pending.poll().join(), ctx.voidPromise());
            inFlight.decrementAndGet();
            wrote = true;
        }
        if (!wrote) {
            return;
        }
        dispatch(ctx);
        if (pending.isEmpty() && closeAfterDrain) {
            flushAndClose(ctx);
            return;
        }
        ctx.flush();
        if (pending.size() + waiting.size() < limits.maxPipelined()
                && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
            // Reading again: a request half-read before the pause is the client's to finish.
            if (decoder.hasPartialRequest()) {
                startStallTimer(ctx);
            }
        }
    }

    /** Closes once every reply written so far has left, the PERM for a malformed one last. */
    private static void flushAndClose(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        if (decoder.hasPartialRequest() && ctx.channel().config().isAutoRead()) {
            startStallTimer(ctx);
        } else {
            cancelStallTimer();
        }
    }

    private void startStallTimer(ChannelHandlerContext ctx) {
        if (stallTimer == null) {
            stallTimer = ctx.executor().schedule(() -> stalled(ctx),
                    limits.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void stalled(ChannelHandlerContext ctx) {
        stallTimer = null;
        if (decoder.hasPartialRequest() && ctx.channel().config().isAutoRead()) {
            counters.stalled.increment();
            long suppressed = STALLED.permit();
            if (suppressed >= 0) {
                log.info("closing connection peer={} reason=\"request incomplete after {} ms\" "
                        + "suppressed={}", ctx.channel().remoteAddress(),
                        limits.requestTimeout().toMillis(), suppressed);
            }
            ctx.close();
        }
    }

    private void cancelStallTimer() {
        if (stallTimer != null) {
            stallTimer.cancel(false);
            stallTimer = null;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            if (!pending.isEmpty() || !waiting.isEmpty()) {
                return; // waiting for our answers is not idleness
            }
            log.debug("closing idle connection peer={}", ctx.channel().remoteAddress());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelStallTimer();
        inFlight.addAndGet(-pending.size());
        pending.clear();
        waiting.clear();
        activity.outstanding(0);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            // A client that vanished mid-request: expected, not worth a stack trace.
            log.debug("connection error peer={} error=\"{}\"", ctx.channel().remoteAddress(),
                    cause.getMessage());
        } else {
            log.warn("unexpected error peer={}", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
