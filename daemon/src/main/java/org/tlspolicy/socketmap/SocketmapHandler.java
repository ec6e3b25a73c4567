package org.tlspolicy.socketmap;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Answers the requests of one connection, in the order they arrived.
 *
 * <p>Postfix sends one request at a time, but a client may pipeline, and lookups finish in any
 * order; replies are queued and written strictly in request order. A client with more than
 * {@link SocketmapLimits#maxPipelined()} unanswered requests is not read from until it catches up
 * (backpressure instead of unbounded buffering). A malformed request is answered PERM after all
 * earlier replies, then the connection is closed. A request begun and not finished within {@link
 * SocketmapLimits#requestTimeout()} closes the connection: a stalled client costs us a file
 * descriptor and nothing else.
 */
public final class SocketmapHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(SocketmapHandler.class);

    private final SocketmapTable table;
    private final SocketmapDecoder decoder;
    private final SocketmapLimits limits;
    private final AtomicInteger inFlight;
    private final ArrayDeque<CompletableFuture<SocketmapReply>> pending = new ArrayDeque<>();
    private boolean closeAfterDrain;
    private ScheduledFuture<?> stallTimer;

    /**
     * @param inFlight counts lookups still unanswered across all connections, so a shutdown can
     *                 wait for them
     */
    public SocketmapHandler(SocketmapTable table, SocketmapDecoder decoder, SocketmapLimits limits,
                            AtomicInteger inFlight) {
        this.table = table;
        this.decoder = decoder;
        this.limits = limits;
        this.inFlight = inFlight;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closeAfterDrain) {
            return;
        }
        CompletableFuture<SocketmapReply> reply;
        if (msg instanceof SocketmapFrame.Request request) {
            reply = lookup(request);
        } else {
            String reason = ((SocketmapFrame.Malformed) msg).reason();
            log.info("malformed request peer={} reason=\"{}\"", ctx.channel().remoteAddress(),
                    reason);
            reply = CompletableFuture.completedFuture(new SocketmapReply.Perm(reason));
            closeAfterDrain = true;
        }
        if (pending.isEmpty() && reply.isDone()) {
            // The common case: answered without waiting. Flushed in channelReadComplete, so
            // pipelined requests of one read leave in one write.
            ctx.write(reply.join());
            if (closeAfterDrain) {
                flushAndClose(ctx);
            }
            return;
        }
        pending.add(reply);
        inFlight.incrementAndGet();
        reply.whenComplete((r, e) -> ctx.executor().execute(() -> drain(ctx)));
        if (pending.size() >= limits.maxPipelined()) {
            ctx.channel().config().setAutoRead(false);
        }
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
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peek().isDone()) {
            ctx.write(pending.poll().join());
            inFlight.decrementAndGet();
            wrote = true;
        }
        if (!wrote) {
            return;
        }
        if (pending.isEmpty() && closeAfterDrain) {
            flushAndClose(ctx);
            return;
        }
        ctx.flush();
        if (pending.size() < limits.maxPipelined() && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** Closes once every reply written so far has left, the PERM for a malformed one last. */
    private static void flushAndClose(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        if (decoder.hasPartialRequest()) {
            if (stallTimer == null) {
                stallTimer = ctx.executor().schedule(() -> stalled(ctx),
                        limits.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            }
        } else {
            cancelStallTimer();
        }
    }

    private void stalled(ChannelHandlerContext ctx) {
        stallTimer = null;
        if (decoder.hasPartialRequest()) {
            log.info("closing connection peer={} reason=\"request incomplete after {} ms\"",
                    ctx.channel().remoteAddress(), limits.requestTimeout().toMillis());
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
