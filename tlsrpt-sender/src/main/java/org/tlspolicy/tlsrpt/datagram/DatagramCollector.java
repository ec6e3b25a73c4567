package org.tlspolicy.tlsrpt.datagram;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Receives Postfix 3.10+'s TLSRPT datagrams (libtlsrpt) on an AF_UNIX datagram socket and
 * counts them into the store: one session per policy of each delivery request, a success or,
 * per failure detail, a failure. The policy comes with the datagram (Postfix had it from
 * tlspolicyd's TLSRPT attributes), so no policy server is asked.
 *
 * <p>A datagram cannot be read twice: each is committed within {@code commitMillis} of its
 * arrival (in batches); one in memory when the process is killed is lost, as it would be in
 * the socket buffer. Malformed datagrams are counted and logged (at most one line a minute),
 * never fatal. At most {@link #QUEUE} datagrams wait for the store; beyond that new ones are
 * dropped and counted (Postfix never waits for this socket: it sends non-blocking).
 */
public final class DatagramCollector implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DatagramCollector.class);

    static final int QUEUE = 100_000;

    private final SessionStore store;
    private final Supplier<Instant> clock;
    private final BlockingQueue<TlsrptDatagram> queue = new ArrayBlockingQueue<>(QUEUE);
    /** Taken from the queue, not yet committed (kept when the store fails). */
    private final List<TlsrptDatagram> pending = new ArrayList<>();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final EventLoopGroup group;
    private final Channel channel;
    private final Path socket;
    private volatile long lastMalformedLog;

    private DatagramCollector(SessionStore store, Supplier<Instant> clock, Path socket)
            throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("AF_UNIX datagrams need Netty's epoll transport (Linux): "
                    + Epoll.unavailabilityCause());
        }
        this.store = store;
        this.clock = clock;
        this.socket = socket;
        Files.deleteIfExists(socket); // a socket left by an earlier run
        this.group = new EpollEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "tlsrpt-datagrams");
            t.setDaemon(true);
            return t;
        });
        try {
            this.channel = new Bootstrap().group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    .option(ChannelOption.RCVBUF_ALLOCATOR,
                            new FixedRecvByteBufAllocator(DatagramParser.MAX_BYTES))
                    .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx,
                                                    DomainDatagramPacket packet) {
                            receive(packet.content());
                        }
                    })
                    .bind(new DomainSocketAddress(socket.toString())).sync().channel();
            // Postfix's smtp(8) runs as postfix: the socket is writable for the group.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        } catch (InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + socket, e);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("cannot bind " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Listens on {@code socket} (a path; an old socket file there is replaced). */
    public static DatagramCollector listen(SessionStore store, Supplier<Instant> clock,
                                           Path socket) throws IOException {
        return new DatagramCollector(store, clock, socket);
    }

    private void receive(ByteBuf content) {
        byte[] bytes = new byte[content.readableBytes()];
        content.readBytes(bytes);
        received.incrementAndGet();
        DatagramParser.Parsed parsed = DatagramParser.parse(bytes);
        if (parsed instanceof DatagramParser.Parsed.Malformed m) {
            malformed.incrementAndGet();
            long now = System.nanoTime();
            if (now - lastMalformedLog > TimeUnit.MINUTES.toNanos(1)) {
                lastMalformedLog = now;
                log.warn("datagram malformed count={} reason=\"{}\"", malformed.get(),
                        m.reason());
            }
            return;
        }
        if (!queue.offer(((DatagramParser.Parsed.Datagram) parsed).datagram())) {
            dropped.incrementAndGet();
        }
    }

    /**
     * Commits what has arrived, waiting up to {@code waitMillis} for the first; returns the
     * datagrams committed.
     */
    public int commit(long waitMillis) throws SQLException, InterruptedException {
        if (pending.isEmpty()) {
            TlsrptDatagram first = queue.poll(waitMillis, TimeUnit.MILLISECONDS);
            if (first == null) {
                return 0;
            }
            pending.add(first);
        }
        queue.drainTo(pending, 10_000);
        // The day a session counts for is the day it arrived (datagrams carry no time).
        LocalDate day = clock.get().atZone(ZoneOffset.UTC).toLocalDate();
        List<SessionCount> counts = new ArrayList<>();
        for (TlsrptDatagram d : pending) {
            counts.addAll(counts(d, day));
        }
        store.add(counts, "datagram:" + socket, Long.toString(received.get()));
        int n = pending.size();
        pending.clear();
        return n;
    }

    /**
     * The sessions of one delivery request, in the report of its domain ({@code d}: the
     * recipient domain whose TLSRPT record Postfix found), each under the policy Postfix
     * names (for DANE its policy domain is the TLSA base domain, RFC 8460 §4.4).
     */
    static List<SessionCount> counts(TlsrptDatagram d, LocalDate day) {
        List<SessionCount> out = new ArrayList<>();
        for (TlsrptDatagram.Outcome o : d.policies()) {
            if (o.success()) {
                out.add(new SessionCount(day, d.domain(), o.policy(),
                        new SessionResult.Success(), "", "", "", "", 1));
            } else if (o.failures().isEmpty()) {
                out.add(new SessionCount(day, d.domain(), o.policy(), new SessionResult.Failure(
                        ResultType.VALIDATION_FAILURE, "failed without details"), "", "", "", "",
                        1));
            } else {
                for (TlsrptDatagram.Failure f : o.failures()) {
                    out.add(new SessionCount(day, d.domain(), o.policy(),
                            new SessionResult.Failure(f.type(), f.reasonCode(), f.additional()),
                            f.sendingIp(), f.mxHost(), f.ehloName(), f.mxIp(), 1));
                }
            }
        }
        return out;
    }

    /** Commits for ever; returns when interrupted (after committing what has arrived). */
    public void run() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                commit(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (SQLException e) {
                log.warn("datagram store failed, keeping them in memory: {}", e.getMessage());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException i) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    long malformed() {
        return malformed.get();
    }

    long dropped() {
        return dropped.get();
    }

    @Override
    public void close() throws IOException {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        Files.deleteIfExists(socket);
    }
}
