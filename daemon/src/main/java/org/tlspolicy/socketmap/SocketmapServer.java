package org.tlspolicy.socketmap;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A socketmap server: listeners, event loops, and the per-connection pipeline
 * (limit, idle timeout, decoder, encoder, handler).
 *
 * <p>Uses the native epoll transport where it exists (Linux; required for unix sockets) and
 * NIO elsewhere. Lookups that complete at once are answered on the event loop with no thread
 * hand-off; slow ones complete on whatever thread finishes them and are written back on the
 * connection's own event loop.
 */
public final class SocketmapServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SocketmapServer.class);

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final boolean epoll;
    private final ConnectionLimit connectionLimit;
    private final ChannelGroup listeners = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final List<Path> socketFiles = new ArrayList<>();
    private final SocketmapTable table;
    private volatile SocketmapLimits limits;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Counters counters = new Counters();

    /** What clients did wrong, since start. */
    static final class Counters {
        final LongAdder malformed = new LongAdder();
        final LongAdder stalled = new LongAdder();
    }

    /**
     * @param threads event loop threads for connections; 0 for one per available processor
     */
    public SocketmapServer(SocketmapTable table, SocketmapLimits limits, int threads) {
        this.table = table;
        this.limits = limits;
        this.connectionLimit = new ConnectionLimit(limits.maxConnections());
        int workers = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        this.epoll = Epoll.isAvailable();
        if (epoll) {
            bossGroup = new EpollEventLoopGroup(1);
            workerGroup = new EpollEventLoopGroup(workers);
        } else {
            bossGroup = new NioEventLoopGroup(1);
            workerGroup = new NioEventLoopGroup(workers);
        }
    }

    /**
     * Changes the limits, as a configuration reload may: max_connections at once, the others
     * for connections accepted from now on (those open keep theirs until they close, which
     * Postfix does within minutes).
     */
    public void limits(SocketmapLimits next) {
        limits = next;
        connectionLimit.max(next.maxConnections());
    }

    /** Binds every address; on failure nothing stays bound. Returns the bound addresses. */
    public List<SocketAddress> bind(List<ListenAddress> addresses) throws IOException {
        List<SocketAddress> bound = new ArrayList<>();
        try {
            for (ListenAddress address : addresses) {
                bound.add(bindOne(address));
            }
        } catch (IOException | RuntimeException e) {
            close(Duration.ZERO);
            throw e;
        }
        return bound;
    }

    private SocketAddress bindOne(ListenAddress address) throws IOException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ConnectionLimit.track(ch);
                        SocketmapDecoder decoder = new SocketmapDecoder();
                        SocketmapLimits limits = SocketmapServer.this.limits;
                        ch.pipeline().addLast(connectionLimit,
                                // Reader idleness only: "no request for this long". An
                                // all-idle handler would also hook every write we make.
                                new IdleStateHandler(limits.idleTimeout().toMillis(), 0, 0,
                                        TimeUnit.MILLISECONDS),
                                decoder,
                                SocketmapEncoder.INSTANCE,
                                new SocketmapHandler(table, decoder, limits, inFlight,
                                        counters));
                    }
                })
                .option(ChannelOption.SO_BACKLOG, 1024);
        SocketAddress local;
        if (address instanceof ListenAddress.Tcp tcp) {
            // An IPv4 address binds an IPv4 socket: Java would bind 0.0.0.0 as a dual-stack
            // "::" and take IPv6 connections too, which the operator did not ask for.
            boolean v4 = tcp.address().getAddress() instanceof java.net.Inet4Address;
            bootstrap.channelFactory(() -> tcpServerChannel(v4))
                    .childOption(ChannelOption.TCP_NODELAY, true);
            local = tcp.address();
            if (!tcp.address().getAddress().isLoopbackAddress()) {
                // Issue 34, finding 9: socketmap has no authentication. Whoever can connect
                // learns the policies and ties up lookups; Postfix runs on this host.
                log.warn("socketmap listener on {} is not loopback: any host that can reach it "
                        + "can query it; keep it behind a firewall, or listen on 127.0.0.1 or "
                        + "a unix socket", new ListenAddress.Tcp(tcp.address()));
            }
        } else {
            ListenAddress.Unix unix = (ListenAddress.Unix) address;
            if (!epoll) {
                throw new IOException("unix sockets need the native epoll transport, which is "
                        + "unavailable here: " + Epoll.unavailabilityCause());
            }
            removeStaleSocket(unix.path());
            bootstrap.channel(EpollServerDomainSocketChannel.class);
            local = new DomainSocketAddress(unix.path().toFile());
        }
        Channel channel;
        try {
            channel = bootstrap.bind(local).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + address, e);
        } catch (Exception e) {
            // Netty rethrows the bind's checked exception undeclared.
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        listeners.add(channel);
        if (address instanceof ListenAddress.Unix unix) {
            socketFiles.add(unix.path());
            applyOwnership(unix);
        }
        SocketAddress bound = channel.localAddress();
        log.info("listening on {}", address instanceof ListenAddress.Tcp tcp
                ? new ListenAddress.Tcp((InetSocketAddress) bound) : address);
        return bound;
    }

    private ServerChannel tcpServerChannel(boolean v4) {
        InternetProtocolFamily family = v4 ? InternetProtocolFamily.IPv4
                : InternetProtocolFamily.IPv6;
        return epoll ? new EpollServerSocketChannel(family)
                : new NioServerSocketChannel(SelectorProvider.provider(), family);
    }

    /**
     * Removes a unix socket file left by a run that did not stop cleanly; refuses a path that
     * is not a socket, or one a running process still accepts on (also for the control socket).
     */
    public static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object type = Files.readAttributes(path, "unix:mode", LinkOption.NOFOLLOW_LINKS)
                .get("mode");
        boolean isSocket = type instanceof Integer mode && (mode & 0170000) == 0140000;
        if (!isSocket) {
            throw new IOException("cannot listen on unix:" + path + ": the path exists and is "
                    + "not a socket");
        }
        // A socket someone still accepts on belongs to a running daemon: never steal it.
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new IOException("cannot listen on unix:" + path + ": another process is "
                    + "listening there");
        } catch (ConnectException refused) {
            Files.delete(path); // left behind by a run that did not stop cleanly
        }
    }

    private static void applyOwnership(ListenAddress.Unix unix) throws IOException {
        Path path = unix.path();
        Files.setPosixFilePermissions(path, unix.mode());
        PosixFileAttributeView view = Files.getFileAttributeView(path,
                PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
        try {
            if (unix.owner().isPresent()) {
                view.setOwner(users.lookupPrincipalByName(unix.owner().get()));
            }
            if (unix.group().isPresent()) {
                view.setGroup(users.lookupPrincipalByGroupName(unix.group().get()));
            }
        } catch (UserPrincipalNotFoundException e) {
            throw new IOException("cannot give " + unix + " to user or group '" + e.getName()
                    + "': no such user or group", e);
        } catch (IOException e) {
            throw new IOException("cannot give " + unix + " its owner or group: "
                    + e.getMessage(), e);
        }
    }

    /** Connections currently open. */
    public int openConnections() {
        return connectionLimit.open();
    }

    /** Idle connections closed at the limit to make room for new ones, since start. */
    public long evictedConnections() {
        return connectionLimit.evicted();
    }

    /** Connections refused at the limit (nothing could make room), since start. */
    public long refusedConnections() {
        return connectionLimit.refused();
    }

    /** Malformed requests (answered PERM, connection closed), since start. */
    public long malformedRequests() {
        return counters.malformed.sum();
    }

    /** Connections closed with a request begun and not finished in time, since start. */
    public long stalledRequests() {
        return counters.stalled.sum();
    }

    /**
     * Stops accepting, gives lookups in progress up to {@code grace} to be answered, then
     * closes every connection and stops the event loops.
     */
    public void close(Duration grace) {
        listeners.close().awaitUninterruptibly();
        for (Path socket : socketFiles) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                // Not worth aborting the shutdown for: the next start replaces a stale socket.
                log.warn("cannot remove socket path={} error=\"{}\"", socket, e.getMessage());
            }
        }
        socketFiles.clear();
        // Postfix sends one request at a time and waits for its reply: once the lookups in
        // flight are answered, closing the connections loses nothing.
        long deadline = System.nanoTime() + grace.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (inFlight.get() > 0) {
            log.warn("shutdown unanswered={} reason=\"grace period of {} ms over\"",
                    inFlight.get(), grace.toMillis());
        }
        connections.close().awaitUninterruptibly(1000);
        workerGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
        bossGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
