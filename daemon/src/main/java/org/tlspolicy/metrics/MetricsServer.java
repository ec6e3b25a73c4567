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
 * and 10 s, connections at {@value #MAX_CONNECTIONS} at once (more are closed at once: the
 * daemon's file descriptors are for Postfix); anything else gets 404 or 405.
 *
 * <p>A request whose {@code Host} is not this listener (its address or {@code localhost}, with
 * its port) gets 421: a web page a browser on this host visits could otherwise read the status
 * page through a name that its owner points at 127.0.0.1 (DNS rebinding).
 */
public final class MetricsServer implements AutoCloseable {

    /** Connections served at once, at most. */
    static final int MAX_CONNECTIONS = 16;

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
        return start(address, metrics, health, status, () -> CompletableFuture.completedFuture(
                "<!DOCTYPE html><html lang=\"en\"><title>tlspolicyd</title><p>No domains view "
                        + "here.</p></html>\n"), () -> "");
    }

    /**
     * As {@link #start(InetSocketAddress, Metrics, Supplier, Function)}, with {@code domains}
     * making the HTML of GET /domains, and {@code more} series appended to /metrics.
     */
    public static MetricsServer start(InetSocketAddress address, Metrics metrics,
                                      Supplier<Health> health,
                                      Function<Optional<String>, CompletableFuture<String>> status,
                                      Supplier<CompletableFuture<String>> domains,
                                      Supplier<String> more)
            throws IOException {
        EventLoopGroup group = new NioEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "metrics");
            t.setDaemon(true);
            return t;
        });
        java.util.concurrent.atomic.AtomicInteger open =
                new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<java.util.Set<String>> hosts =
                new java.util.concurrent.atomic.AtomicReference<>(java.util.Set.of());
        try {
            Channel ch = new ServerBootstrap().group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            if (open.incrementAndGet() > MAX_CONNECTIONS) {
                                open.decrementAndGet();
                                c.close();
                                return;
                            }
                            c.closeFuture().addListener(f -> open.decrementAndGet());
                            c.pipeline().addLast(new ReadTimeoutHandler(10, TimeUnit.SECONDS),
                                    new HttpServerCodec(4096, 8192, 8192),
                                    new HttpObjectAggregator(8192),
                                    new Handler(metrics, health, status, domains, more,
                                            hosts.get()));
                        }
                    })
                    .bind(address).awaitUninterruptibly().channel();
            if (!ch.isActive()) {
                throw new IOException("cannot listen on " + address);
            }
            hosts.set(hostHeaders((InetSocketAddress) ch.localAddress()));
            return new MetricsServer(group, ch);
        } catch (IOException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The Host header values this listener answers: its address, or localhost, and port. */
    static java.util.Set<String> hostHeaders(InetSocketAddress bound) {
        String ip = bound.getAddress().getHostAddress();
        if (bound.getAddress() instanceof java.net.Inet6Address) {
            ip = "[" + ip.replaceAll("%.*", "") + "]";
        }
        int port = bound.getPort();
        return java.util.Set.of((ip + ":" + port).toLowerCase(java.util.Locale.ROOT),
                "localhost:" + port);
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
        private final Supplier<CompletableFuture<String>> domains;
        private final Supplier<String> more;
        private final java.util.Set<String> hosts;

        Handler(Metrics metrics, Supplier<Health> health,
                Function<Optional<String>, CompletableFuture<String>> status,
                Supplier<CompletableFuture<String>> domains, Supplier<String> more,
                java.util.Set<String> hosts) {
            this.metrics = metrics;
            this.health = health;
            this.status = status;
            this.domains = domains;
            this.more = more;
            this.hosts = hosts;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri();
            int q = path.indexOf('?');
            path = q >= 0 ? path.substring(0, q) : path;
            FullHttpResponse response;
            String host = request.headers().get(HttpHeaderNames.HOST, "");
            if (!request.decoderResult().isSuccess()) {
                response = text(HttpResponseStatus.BAD_REQUEST, "bad request\n");
            } else if (!hosts.contains(host.toLowerCase(java.util.Locale.ROOT))) {
                response = text(HttpResponseStatus.MISDIRECTED_REQUEST, "this is "
                        + String.join(" or ", new java.util.TreeSet<>(hosts)) + "\n");
            } else if (!path.equals("/metrics") && !path.equals("/health")
                    && !path.equals("/status") && !path.equals("/")
                    && !path.equals("/domains")) {
                response = text(HttpResponseStatus.NOT_FOUND, "not found: /metrics, /health, "
                        + "/status, /domains\n");
            } else if (!request.method().equals(HttpMethod.GET)
                    && !request.method().equals(HttpMethod.HEAD)) {
                response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "GET only\n");
            } else if (path.equals("/status") || path.equals("/") || path.equals("/domains")) {
                List<String> domain = new QueryStringDecoder(request.uri()).parameters()
                        .getOrDefault("domain", List.of());
                Optional<String> asked = domain.isEmpty() || domain.get(0).isBlank()
                        ? Optional.empty() : Optional.of(domain.get(0).strip());
                CompletableFuture<String> page = path.equals("/domains") ? domains.get()
                        : status.apply(asked);
                page.orTimeout(60, TimeUnit.SECONDS).whenComplete((html, e) -> {
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
                response = text(HttpResponseStatus.OK, metrics.render() + more.get());
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
