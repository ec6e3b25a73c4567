package org.tlspolicy.daemon;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Tells the service manager how the daemon is doing, as systemd's sd_notify(3) does: one
 * datagram of {@code NAME=value} lines to the unix socket in {@code $NOTIFY_SOCKET} ({@code @} at
 * its start names the abstract namespace). With {@code Type=notify}, systemd starts Postfix
 * (ordered after tlspolicyd) only once every listener is bound. Without {@code NOTIFY_SOCKET},
 * or off Linux, nothing is sent. A failed send is logged, never fatal.
 */
public final class ServiceNotifier implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ServiceNotifier.class);

    /** Sends nothing. */
    public static final ServiceNotifier NONE = new ServiceNotifier(null, null);

    private final EventLoopGroup group;
    private final Channel channel;
    private ServiceNotifier(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /** The notifier of {@code $NOTIFY_SOCKET}, or {@link #NONE}. */
    public static ServiceNotifier fromEnvironment() {
        String socket = System.getenv("NOTIFY_SOCKET");
        return socket == null || socket.isEmpty() ? NONE : to(socket);
    }

    /** A notifier sending to {@code socket}: a path, or {@code @name} (abstract namespace). */
    public static ServiceNotifier to(String socket) {
        if (!Epoll.isAvailable()) {
            log.warn("NOTIFY_SOCKET set but unix datagrams need the epoll transport: not "
                    + "notifying the service manager");
            return NONE;
        }
        String path = socket.startsWith("@") ? "\0" + socket.substring(1) : socket;
        EventLoopGroup group = new EpollEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "service-notify");
            t.setDaemon(true);
            return t;
        });
        ChannelFuture connect = new Bootstrap().group(group)
                .channel(EpollDomainDatagramChannel.class)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(new DomainSocketAddress(path));
        // Not sync(): it would rethrow the native IOException unchecked past every catch.
        if (connect.awaitUninterruptibly(5, TimeUnit.SECONDS) && connect.isSuccess()) {
            return new ServiceNotifier(group, connect.channel());
        }
        log.warn("cannot notify the service manager at {}: {}", socket,
                connect.cause() == null ? "no connection within 5 s" : connect.cause().toString());
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        return NONE;
    }

    /** Sends {@code state}, e.g. {@code READY=1\nSTATUS=serving}; waits at most a second. */
    public void send(String state) {
        if (channel == null) {
            return;
        }
        try {
            boolean done = channel.writeAndFlush(Unpooled.wrappedBuffer(
                    state.getBytes(StandardCharsets.UTF_8)))
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            log.warn("service manager notification failed: {}", f.cause().toString());
                        }
                    }).await(1, TimeUnit.SECONDS);
            if (!done) {
                log.warn("service manager notification not sent within 1 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
