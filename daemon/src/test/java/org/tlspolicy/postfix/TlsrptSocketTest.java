package org.tlspolicy.postfix;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where smtp(8) looks for the TLSRPT socket, and whether a collector receives there. */
class TlsrptSocketTest {

    @TempDir
    Path dir;

    @Test
    void relativeNamesAreUnderTheQueueDirectoryAbsoluteOnesInsideTheChroot() {
        Path queue = Path.of("/var/spool/postfix");
        assertEquals(new TlsrptSocket(Path.of("/var/spool/postfix/run/tlsrpt/tlsrpt.sock"),
                false), TlsrptSocket.of("run/tlsrpt/tlsrpt.sock", queue, true));
        assertEquals(new TlsrptSocket(Path.of("/var/spool/postfix/run/tlsrpt/tlsrpt.sock"),
                false), TlsrptSocket.of("run/tlsrpt/tlsrpt.sock", queue, false));
        assertEquals(new TlsrptSocket(Path.of("/var/spool/postfix/run/x.sock"), true),
                TlsrptSocket.of("/run/x.sock", queue, true));
        assertEquals(new TlsrptSocket(Path.of("/run/x.sock"), false),
                TlsrptSocket.of("/run/x.sock", queue, false));
    }

    /** A real AF_UNIX datagram socket, bound, then closed with its file left behind. */
    @Test
    void tellsAListeningCollectorFromAStaleSocketFile() throws Exception {
        Path path = dir.resolve("tlsrpt.sock");
        TlsrptSocket socket = new TlsrptSocket(path, false);
        assertEquals(TlsrptSocket.State.MISSING, socket.state());
        Files.writeString(dir.resolve("file"), "x");
        assertEquals(TlsrptSocket.State.NOT_A_SOCKET,
                new TlsrptSocket(dir.resolve("file"), false).state());
        EventLoopGroup group = new EpollEventLoopGroup(1);
        try {
            Channel bound = new Bootstrap().group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .bind(new DomainSocketAddress(path.toString())).sync().channel();
            assertEquals(TlsrptSocket.State.LISTENING, socket.state());
            bound.close().sync();
            assertTrue(Files.exists(path), "a closed datagram socket leaves its file");
            assertEquals(TlsrptSocket.State.NOBODY_LISTENING, socket.state());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aUserIsInItsPrimaryGroupAndWhereverItIsAMember() {
        List<String> passwd = List.of("root:x:0:0:root:/root:/bin/bash",
                "postfix:x:101:107::/var/spool/postfix:/usr/sbin/nologin");
        List<String> group = List.of("root:x:0:", "postfix:x:107:", "postdrop:x:108:",
                "tlsrpt-sender:x:109:postfix,other");
        assertEquals(Set.of("postfix", "tlsrpt-sender"), Groups.of("postfix", passwd, group));
        assertFalse(Groups.of("nobody", passwd, group).contains("postfix"));
    }
}
