package org.tlspolicy.daemon;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.testworld.Isolated;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's sd_notify messages, received the way systemd receives them: datagrams on a unix
 * socket (here one the test binds, by path and in the abstract namespace).
 */
@Timeout(60)
class ServiceNotifierTest {

    final EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    final BlockingQueue<String> received = new LinkedBlockingQueue<>();

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** A stand-in for systemd's notification socket at {@code path}. */
    Channel serviceManager(String path) throws Exception {
        return new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                        received.add(p.content().toString(StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(path)).sync().channel();
    }

    String next() throws InterruptedException {
        String m = received.poll(10, TimeUnit.SECONDS);
        assertTrue(m != null, "no notification within 10 s");
        return m;
    }

    @Test
    void readyOnceListeningThenReloadingAndStopping(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("notify");
        Channel manager = serviceManager(socket.toString());
        Path file = Files.writeString(dir.resolve("c.yml"),
                // No start-up DNSSEC check, whose failure (no DNS here) STATUS= would show.
                "socketmap: {listen: [\"127.0.0.1:0\"]}\ndane: {dnssec: resolver}\n"
                        + Isolated.CONFIG);
        PolicyDaemon daemon = PolicyDaemon.start(ConfigLoader.load(file), Optional.of(file),
                ServiceNotifier.to(socket.toString()));
        try {
            assertEquals("READY=1\nSTATUS=serving map postfix on [inet:127.0.0.1:0]", next());
            daemon.reload();
            assertEquals("RELOADING=1", next());
            assertEquals("READY=1\nSTATUS=serving map postfix on [inet:127.0.0.1:0]", next());
            Files.writeString(file, "socketmap: {threads: -1}\n");
            daemon.reload();
            assertEquals("RELOADING=1", next());
            assertTrue(next().startsWith("READY=1\nSTATUS=reload failed, running "
                    + "configuration kept: config key socketmap.threads"));
        } finally {
            daemon.close();
        }
        assertEquals("STOPPING=1", next());
        manager.close().sync();
    }

    @Test
    void anAbstractSocketNameStartsWithAt() throws Exception {
        String name = "tlspolicyd-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Channel manager = serviceManager("\0" + name);
        try (ServiceNotifier n = ServiceNotifier.to("@" + name)) {
            n.send("READY=1");
            assertEquals("READY=1", next());
        }
        manager.close().sync();
    }

    @Test
    void aMissingSocketIsLoggedAndNothingIsSent(@TempDir Path dir) {
        // A stale NOTIFY_SOCKET must not stop the daemon from starting.
        try (ServiceNotifier n = ServiceNotifier.to(dir.resolve("gone").toString())) {
            assertSame(ServiceNotifier.NONE, n);
            n.send("READY=1");
        }
    }
}
