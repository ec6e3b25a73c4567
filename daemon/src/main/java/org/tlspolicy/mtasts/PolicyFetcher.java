package org.tlspolicy.mtasts;

import io.netty.bootstrap.Bootstrap;
import org.tlspolicy.outbound.PublicAddress;
import org.tlspolicy.outbound.SocketBudget;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fetches MTA-STS policies over HTTPS (RFC 8461 §3.3) and never lets a policy host stall or
 * flood the daemon: every fetch ends, with a body or a typed failure, within its time limit,
 * and no more than {@link #MAX_BODY_BYTES} of body are ever buffered.
 *
 * <ul>
 *   <li>HTTPS only, to {@code mta-sts.DOMAIN}, with SNI and PKIX validation of that name
 *       ({@link PolicyHostTrust}: BoringSSL's engine or the JDK's, the JDK's trust manager on
 *       either; endpoint identification "HTTPS" in the engine);</li>
 *   <li>no redirects: a 3xx is a failure (RFC 8461 §3.3);</li>
 *   <li>only 200 with media type {@code text/plain} is read (RFC 8461 §3.2);</li>
 *   <li>the body is cut off past {@link #MAX_BODY_BYTES} while it arrives, and the whole fetch,
 *       connect and body included, is bounded by the total timeout, so a host dripping one byte
 *       a second costs one idle connection until then and nothing else.</li>
 * </ul>
 *
 * <p>Only global unicast addresses are connected to ({@link PublicAddress}): the policy host is
 * named by the domain, that is by anyone, and must not be able to point tlspolicyd at this
 * host's or this network's own services (issue 34, finding 4). {@code
 * mta_sts.allow_private_addresses} lifts that for test worlds on loopback.
 *
 * <p>The caller supplies the policy host's addresses. That is why this is Netty's HTTP codec
 * and not the JDK's HTTP client: the JDK client resolves host names itself, through the
 * system resolver, one lookup after the other; here the address lookup goes to the configured
 * DNS servers and runs alongside the TXT lookup ({@link StsResolver}), which saves a round trip
 * on every cold lookup. One request per connection ({@code Connection: close}): a policy host
 * is fetched about once a day, so a kept connection would almost never be reused.
 */
public final class PolicyFetcher {

    /** RFC 8461 §3.3 leaves the limit to the sender; 64 KiB is common practice. */
    public static final int MAX_BODY_BYTES = 64 * 1024;

    /** The well-known path (RFC 8461 §3.3). */
    public static final String PATH = "/.well-known/mta-sts.txt";

    /** Longest status line and header block accepted; real policy hosts send a few hundred. */
    private static final int MAX_LINE_BYTES = 4096;
    private static final int MAX_HEADER_BYTES = 16 * 1024;

    private final SslContext tls;
    private final Duration connectTimeout;
    private final Duration timeout;
    private final int port;
    private final EventLoopGroup group;
    private final SocketBudget sockets;
    private final boolean allowPrivate;

    /**
     * @param tls            trust for policy hosts
     * @param connectTimeout TCP connect limit per address
     * @param timeout        limit for the whole fetch, body included
     * @param port           443 in production; tests run policy hosts on other ports
     * @param group          runs the connections (NIO)
     * @param allowPrivate   connect to loopback and private addresses too (test worlds only)
     */
    public PolicyFetcher(SslContext tls, Duration connectTimeout, Duration timeout, int port,
                         EventLoopGroup group, boolean allowPrivate) {
        this(tls, connectTimeout, timeout, port, group, SocketBudget.unlimited("https"),
                allowPrivate);
    }

    /**
     * As {@link #PolicyFetcher(SslContext, Duration, Duration, int, EventLoopGroup, boolean)},
     * each fetch holding a socket of {@code sockets} from before it connects until it is over;
     * a fetch waiting for one has not started (its deadline neither).
     */
    public PolicyFetcher(SslContext tls, Duration connectTimeout, Duration timeout, int port,
                         EventLoopGroup group, SocketBudget sockets, boolean allowPrivate) {
        this.allowPrivate = allowPrivate;
        this.sockets = sockets;
        this.tls = tls;
        this.connectTimeout = connectTimeout;
        this.timeout = timeout;
        this.port = port;
        this.group = group;
    }

    /** The policy host of {@code domain}: {@code mta-sts.DOMAIN} (RFC 8461 §3.3). */
    public static String host(String domain) {
        return "mta-sts." + domain;
    }

    /** The policy URL of {@code domain} (an A-label name without trailing dot). */
    public URI uri(String domain) {
        // RFC 8461 §3.3: https://mta-sts.DOMAIN/.well-known/mta-sts.txt
        return URI.create("https://" + authority(domain) + PATH);
    }

    private String authority(String domain) {
        return host(domain) + (port == 443 ? "" : ":" + port);
    }

    /**
     * Fetches the policy of {@code domain} from the first of {@code addresses} that accepts a
     * connection; the future never completes exceptionally.
     */
    public CompletableFuture<PolicyFetch> fetch(String domain, List<InetAddress> addresses) {
        List<InetAddress> usable = addresses;
        if (!allowPrivate) {
            usable = addresses.stream().filter(PublicAddress::is).toList();
            if (usable.isEmpty() && !addresses.isEmpty()) {
                InetAddress a = addresses.get(0);
                return CompletableFuture.completedFuture(new PolicyFetch.Failed(
                        StsFailure.FETCH_ERROR, host(domain) + " resolves to no global unicast "
                        + "address (" + a.getHostAddress() + " is " + PublicAddress.whyNot(a)
                        .orElse("") + "): not fetched (mta_sts.allow_private_addresses is off)",
                        Duration.ZERO, PolicyFetch.Phases.NONE));
            }
        }
        List<InetAddress> vetted = usable;
        return sockets.acquire().thenCompose(permit -> {
            Exchange exchange = new Exchange(domain, List.copyOf(vetted), group.next());
            exchange.result.whenComplete((r, e) -> permit.release());
            exchange.start();
            return exchange.result;
        });
    }

    /** One fetch: its connection attempts, its deadline, and what it has learned so far. */
    private final class Exchange {

        final String domain;
        final List<InetAddress> addresses;
        final EventLoop loop;
        final long start = System.nanoTime();
        final CompletableFuture<PolicyFetch> result = new CompletableFuture<>();
        // Written and read on the event loop only.
        long connectedAt;
        long securedAt;
        Channel channel;
        Throwable lastConnectError;
        ByteBuf body;

        Exchange(String domain, List<InetAddress> addresses, EventLoop loop) {
            this.domain = domain;
            this.addresses = addresses;
            this.loop = loop;
        }

        void start() {
            if (addresses.isEmpty()) {
                fail(StsFailure.FETCH_ERROR, "no address for " + host(domain));
                return;
            }
            var deadline = loop.schedule(() -> fail(StsFailure.FETCH_ERROR,
                    "no complete response within " + timeout.toMillis() + " ms"),
                    timeout.toNanos(), TimeUnit.NANOSECONDS);
            result.whenComplete((r, e) -> {
                deadline.cancel(false);
                loop.execute(this::release);
            });
            loop.execute(() -> connect(0));
        }

        void connect(int index) {
            if (result.isDone()) {
                return;
            }
            long left = timeout.toNanos() - (System.nanoTime() - start);
            int connectMillis = (int) Math.max(1, Math.min(connectTimeout.toMillis(),
                    TimeUnit.NANOSECONDS.toMillis(left)));
            ChannelFuture f = new Bootstrap()
                    .group(loop)
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            SslHandler ssl = new SslHandler(engine(ch));
                            ssl.setHandshakeTimeoutMillis(0); // the fetch deadline covers it
                            ssl.handshakeFuture().addListener(h -> secured(h.cause()));
                            ch.pipeline().addLast(ssl,
                                    new HttpClientCodec(MAX_LINE_BYTES, MAX_HEADER_BYTES, 8192),
                                    new Response());
                        }
                    })
                    .connect(new InetSocketAddress(addresses.get(index), port));
            channel = f.channel();
            f.addListener(c -> {
                if (c.isSuccess()) {
                    connectedAt = System.nanoTime();
                    if (result.isDone()) {
                        channel.close();
                    }
                } else if (index + 1 < addresses.size()) {
                    lastConnectError = c.cause();
                    connect(index + 1); // the next address, within what is left of the time
                } else {
                    complete(classify(c.cause()));
                }
            });
        }

        SSLEngine engine(Channel ch) {
            String host = host(domain);
            SSLEngine engine = tls.newEngine(ch.alloc(), host, port);
            SSLParameters p = engine.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(host))); // RFC 8461 §3.3 via RFC 6066 SNI
            p.setEndpointIdentificationAlgorithm("HTTPS"); // RFC 8461 §3.3: name in the cert
            engine.setSSLParameters(p);
            return engine;
        }

        void secured(Throwable failure) {
            if (connectedAt == 0) {
                return; // a connection that never came up: its connect listener tells why
            }
            if (failure != null) {
                complete(classify(failure));
                return;
            }
            securedAt = System.nanoTime();
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
                    HttpMethod.GET, PATH, Unpooled.EMPTY_BUFFER);
            request.headers()
                    .set(HttpHeaderNames.HOST, authority(domain))
                    .set(HttpHeaderNames.ACCEPT, "text/plain")
                    .set(HttpHeaderNames.USER_AGENT, "tlspolicyd")
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            channel.writeAndFlush(request).addListener(w -> {
                if (!w.isSuccess()) {
                    complete(classify(w.cause()));
                }
            });
        }

        /** Handles the response as it arrives; any complete answer ends the exchange. */
        final class Response extends ChannelInboundHandlerAdapter {

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    if (!result.isDone()) {
                        read(msg);
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }

            private void read(Object msg) {
                if (msg instanceof HttpResponse response) {
                    if (response.decoderResult().isFailure()) {
                        fail(StsFailure.FETCH_ERROR, "malformed HTTP response: "
                                + message(response.decoderResult().cause()));
                        return;
                    }
                    String rejection = rejection(response);
                    if (rejection != null) {
                        fail(StsFailure.FETCH_ERROR, rejection);
                        return;
                    }
                    body = channel.alloc().buffer(1024, MAX_BODY_BYTES);
                }
                if (msg instanceof HttpContent content) {
                    if (content.decoderResult().isFailure()) {
                        fail(StsFailure.FETCH_ERROR, "malformed HTTP response: "
                                + message(content.decoderResult().cause()));
                        return;
                    }
                    ByteBuf chunk = content.content();
                    if (chunk.readableBytes() > MAX_BODY_BYTES - body.readableBytes()) {
                        fail(StsFailure.FETCH_ERROR, "body over " + MAX_BODY_BYTES + " bytes");
                        return;
                    }
                    body.writeBytes(chunk);
                    if (msg instanceof LastHttpContent) {
                        long now = System.nanoTime();
                        complete(new PolicyFetch.Fetched(body.toString(StandardCharsets.UTF_8),
                                elapsed(now), phases(now)));
                    }
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                fail(StsFailure.FETCH_ERROR, "connection closed before the response ended");
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                complete(classify(cause));
            }
        }

        void fail(StsFailure failure, String reason) {
            long now = System.nanoTime();
            complete(new PolicyFetch.Failed(failure, reason, elapsed(now), phases(now)));
        }

        void complete(PolicyFetch outcome) {
            if (result.complete(outcome) && channel != null) {
                channel.close();
            }
        }

        void release() {
            if (body != null) {
                body.release();
                body = null;
            }
        }

        Duration elapsed(long now) {
            return Duration.ofNanos(now - start);
        }

        PolicyFetch.Phases phases(long now) {
            if (connectedAt == 0) {
                return new PolicyFetch.Phases(Duration.ofNanos(now - start), Duration.ZERO,
                        Duration.ZERO);
            }
            Duration connect = Duration.ofNanos(connectedAt - start);
            if (securedAt == 0) {
                return new PolicyFetch.Phases(connect, Duration.ofNanos(now - connectedAt),
                        Duration.ZERO);
            }
            return new PolicyFetch.Phases(connect, Duration.ofNanos(securedAt - connectedAt),
                    Duration.ofNanos(now - securedAt));
        }

        /** Sorts a transport failure into what RFC 8460 reports it as. */
        PolicyFetch.Failed classify(Throwable error) {
            long now = System.nanoTime();
            for (Throwable c = error; c != null; c = c.getCause()) {
                if (c instanceof CertificateException || c instanceof CertPathValidatorException) {
                    return new PolicyFetch.Failed(StsFailure.WEBPKI_INVALID,
                            "certificate: " + message(c), elapsed(now), phases(now));
                }
            }
            String reason;
            if (error instanceof io.netty.channel.ConnectTimeoutException) {
                reason = "connect timed out" + alsoTried();
            } else if (error instanceof ConnectException) {
                reason = "connect failed: " + message(error) + alsoTried();
            } else if (has(error, SSLHandshakeException.class)) {
                reason = "TLS handshake failed: " + message(error);
            } else if (has(error, IOException.class)) {
                reason = "connection failed: " + message(error);
            } else {
                reason = "unexpected: " + error;
            }
            return new PolicyFetch.Failed(StsFailure.FETCH_ERROR, reason, elapsed(now),
                    phases(now));
        }

        private String alsoTried() {
            return lastConnectError == null ? ""
                    : " (and " + (addresses.size() - 1) + " other address(es) before: "
                    + message(lastConnectError) + ")";
        }
    }

    /** Why a response is not read, or null when it is a 200 text/plain of acceptable size. */
    private static String rejection(HttpResponse response) {
        int status = response.status().code();
        if (status >= 300 && status < 400) {
            // RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
            String location = response.headers().get(HttpHeaderNames.LOCATION, "(no location)");
            return "HTTP " + status + " redirect to " + location + " not followed";
        }
        if (status != 200) {
            return "HTTP " + status;
        }
        // RFC 8461 §3.2: the policy's media type is "text/plain".
        String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        String mediaType = type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("text/plain")) {
            return "content type '" + type + "' is not text/plain";
        }
        String length = response.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > MAX_BODY_BYTES) {
                    return "body of " + length.strip() + " bytes is over " + MAX_BODY_BYTES;
                }
            } catch (NumberFormatException e) {
                return "malformed Content-Length '" + length + "'";
            }
        }
        return null;
    }

    private static boolean has(Throwable error, Class<? extends Throwable> type) {
        for (Throwable c = error; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        while (t.getCause() != null && (m == null || m.isBlank())) {
            t = t.getCause();
            m = t.getMessage();
        }
        return m == null ? t.getClass().getSimpleName() : m;
    }
}
