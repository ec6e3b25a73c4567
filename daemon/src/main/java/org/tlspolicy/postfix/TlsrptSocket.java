package org.tlspolicy.postfix;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The AF_UNIX datagram socket Postfix 3.10's TLSRPT client writes to ({@code
 * smtp_tlsrpt_socket_name}), as the smtp(8) process sees it: a relative name is relative to
 * {@code $queue_directory}, whether or not smtp(8) runs chrooted (Postfix TLSRPT_README); an
 * absolute name under a chrooted smtp(8) is looked up inside the chroot, i.e. below the queue
 * directory as well.
 *
 * @param path        where the socket is on this machine
 * @param insideChroot whether an absolute name was moved into the chroot
 */
public record TlsrptSocket(Path path, boolean insideChroot) {

    /** Where {@code socketName} is for an smtp(8) in {@code queueDirectory}. */
    public static TlsrptSocket of(String socketName, Path queueDirectory, boolean chroot) {
        Path name = Path.of(socketName);
        if (!name.isAbsolute()) {
            return new TlsrptSocket(queueDirectory.resolve(name), false);
        }
        if (chroot) {
            return new TlsrptSocket(queueDirectory.resolve(name.toString().substring(1)), true);
        }
        return new TlsrptSocket(name, false);
    }

    /** What is at the path. */
    public enum State {
        /** Nothing. */
        MISSING,
        /** Something that is not a socket. */
        NOT_A_SOCKET,
        /** A socket file nobody receives on (a collector that stopped). */
        NOBODY_LISTENING,
        /** A socket a process receives datagrams on. */
        LISTENING,
        /** Cannot tell: no epoll transport here, or no permission to look. */
        UNKNOWN
    }

    /** Looks, without sending anything: a datagram connect fails when nobody is bound. */
    public State state() {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return State.MISSING;
        }
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (!(mode instanceof Integer m) || (m & 0170000) != 0140000) {
                return State.NOT_A_SOCKET;
            }
        } catch (IOException | UnsupportedOperationException e) {
            return State.UNKNOWN;
        }
        if (!Epoll.isAvailable()) {
            return State.UNKNOWN;
        }
        EventLoopGroup group = new EpollEventLoopGroup(1);
        try {
            ChannelFuture f = new Bootstrap().group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(new DomainSocketAddress(path.toString()));
            if (!f.awaitUninterruptibly(5, TimeUnit.SECONDS)) {
                return State.UNKNOWN;
            }
            if (f.isSuccess()) {
                f.channel().close().awaitUninterruptibly();
                return State.LISTENING;
            }
            String why = String.valueOf(f.cause().getMessage());
            return why.contains("refused") ? State.NOBODY_LISTENING : State.UNKNOWN;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
        }
    }

    /**
     * Whether {@code user} (Postfix's mail_owner, whom smtp(8) runs as) may write to the socket:
     * it owns it, or it is writable by a group the user is in, or by everyone.
     */
    public boolean writableBy(String user) throws IOException {
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        int m = mode instanceof Integer i ? i : 0;
        if ((m & 0002) != 0) {
            return true;
        }
        String owner = Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName();
        if ((m & 0200) != 0 && owner.equals(user)) {
            return true;
        }
        if ((m & 0020) == 0) {
            return false;
        }
        Object group = Files.getAttribute(path, "posix:group", LinkOption.NOFOLLOW_LINKS);
        String g = group instanceof java.security.Principal p ? p.getName() : "";
        return Groups.of(user).contains(g);
    }
}
