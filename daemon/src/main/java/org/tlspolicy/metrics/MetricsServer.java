package org.tlspolicy.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The metrics and health endpoint: {@code GET /metrics} (Prometheus text format) and {@code GET
 * /health} (200 {@code ok} while the daemon serves and nothing stands in the way of its
 * promises, with notices of past trouble below; 503 and the problems, one a line, otherwise),
 * on a loopback address only,
 * one thread of its own so that scraping never delays a lookup. Requests are capped at 8 KiB
 * and 10 s; anything else gets 404 or 405.
 */
public final class MetricsServer implements AutoCloseable {

    private final EventLoopGroup group;
    private final Channel channel;

    private MetricsServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /**
     * Serves {@code metrics} at {@code address}; {@code health} answers /health: its problems
     * make it 503, its notices are told with a 200.
     */
    public static MetricsServer start(InetSocketAddress address, Metrics metrics,
                                      Supplier<Health> health) throws IOException {
        return start(address, metrics, health, domain -> CompletableFuture.completedFuture(
                "<!DOCTYPE html><html lang=\"en\"><title>tlspolicyd</title><p>No status "
                        + "page here.</p></html>\n"));
    }

    /**
     * As {@link #start(InetSocketAddress, Metrics, Supplier)}, with {@code status} making the
     * HTML of GET /status (and /), given the domain searched for ({@code ?domain=}), if any.
     */
    public static MetricsServer start(InetSocketAddress address, Metrics metrics,
                                      Supplier<Health> health,
                                      Function<Optional<String>, CompletableFuture<String>> status)
            throws IOException {
        EventLoopGroup group = new NioEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "metrics");
            t.setDaemon(true);
            return t;
        });
        try {
            Channel ch = new ServerBootstrap().group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(new ReadTimeoutHandler(10, TimeUnit.SECONDS),
                                    new HttpServerCodec(4096, 8192, 8192),
                                    new HttpObjectAggregator(8192),
                                    new Handler(metrics, health, status));
                        }
                    })
                    .bind(address).awaitUninterruptibly().channel();
            if (!ch.isActive()) {
                throw new IOException("cannot listen on " + address);
            }
            return new MetricsServer(group, ch);
        } catch (IOException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The bound address (with the real port if 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Metrics metrics;
        private final Supplier<Health> health;
        private final Function<Optional<String>, CompletableFuture<String>> status;

        Handler(Metrics metrics, Supplier<Health> health,
                Function<Optional<String>, CompletableFuture<String>> status) {
            this.metrics = metrics;
            this.health = health;
            this.status = status;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri();
            int q = path.indexOf('?');
            path = q >= 0 ? path.substring(0, q) : path;
            FullHttpResponse response;
            if (!request.decoderResult().isSuccess()) {
                response = text(HttpResponseStatus.BAD_REQUEST, "bad request\n");
            } else if (!path.equals("/metrics") && !path.equals("/health")
                    && !path.equals("/status") && !path.equals("/")) {
                response = text(HttpResponseStatus.NOT_FOUND, "not found: /metrics, /health, "
                        + "/status\n");
            } else if (!request.method().equals(HttpMethod.GET)
                    && !request.method().equals(HttpMethod.HEAD)) {
                response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "GET only\n");
            } else if (path.equals("/status") || path.equals("/")) {
                List<String> domain = new QueryStringDecoder(request.uri()).parameters()
                        .getOrDefault("domain", List.of());
                Optional<String> asked = domain.isEmpty() || domain.get(0).isBlank()
                        ? Optional.empty() : Optional.of(domain.get(0).strip());
                status.apply(asked).orTimeout(60, TimeUnit.SECONDS).whenComplete((html, e) -> {
                    FullHttpResponse r = e == null ? text(HttpResponseStatus.OK, html)
                            : text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "status page "
                            + "failed: " + e.getMessage() + "\n");
                    if (e == null) {
                        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
                        // Self-contained: nothing may load from elsewhere.
                        r.headers().set("Content-Security-Policy", "default-src 'none'; "
                                + "style-src 'unsafe-inline'; img-src data:; form-action 'self'");
                    }
                    ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                });
                return;
            } else if (path.equals("/health")) {
                Health h = health.get();
                response = text(h.ok() ? HttpResponseStatus.OK
                        : HttpResponseStatus.SERVICE_UNAVAILABLE, h.text());
            } else {
                response = text(HttpResponseStatus.OK, metrics.render());
                response.headers().set(HttpHeaderNames.CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8");
            }
            // One request per connection: scrapers reconnect, and nothing lingers.
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // timeouts, resets: nothing to report
        }

        private static FullHttpResponse text(HttpResponseStatus status, String body) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8)));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            r.headers().set(HttpHeaderNames.CONNECTION, "close");
            return r;
        }
    }
}
