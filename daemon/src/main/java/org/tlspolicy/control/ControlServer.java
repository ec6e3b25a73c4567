package org.tlspolicy.control;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.socketmap.SocketmapServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The control socket: a unix socket, mode 0660 (the daemon's user and group, and root), on
 * which {@code tlspolicyd cache …} sends one {@link ControlRequest} line and reads the
 * {@link ControlReply}; then the connection closes. Who asked is the peer's uid from the
 * kernel (SO_PEERCRED), logged with the action. Requests over
 * {@link ControlRequest#MAX_LINE} bytes, or not finished within 10 s, are cut off.
 */
public final class ControlServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

    /** Carries requests out; the reply completes when the action has. */
    public interface Actions {
        CompletableFuture<ControlReply> act(ControlRequest request, int uid);
    }

    private final EventLoopGroup group;
    private final Channel channel;
    private final Path path;

    private ControlServer(EventLoopGroup group, Channel channel, Path path) {
        this.group = group;
        this.channel = channel;
        this.path = path;
    }

    /** Listens on {@code path}, replacing a stale socket file there. */
    public static ControlServer start(Path path, Actions actions) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("unix sockets need the native epoll transport");
        }
        Path dir = path.getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            // Under systemd, RuntimeDirectory= makes it; run by hand (scripts/serve), make it.
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwxr-x---")));
            } catch (IOException e) {
                throw new IOException(dir + " does not exist and cannot be made ("
                        + e.getMessage() + "); the systemd unit's RuntimeDirectory= makes it");
            }
        }
        SocketmapServer.removeStaleSocket(path);
        EventLoopGroup group = new EpollEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "control");
            t.setDaemon(true);
            return t;
        });
        try {
            Channel ch = new ServerBootstrap().group(group)
                    .channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new ReadTimeoutHandler(10),
                                    new LineBasedFrameDecoder(ControlRequest.MAX_LINE),
                                    new StringDecoder(StandardCharsets.UTF_8),
                                    new StringEncoder(StandardCharsets.UTF_8),
                                    new Handler(actions));
                        }
                    })
                    .bind(new DomainSocketAddress(path.toFile())).sync().channel();
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            log.info("control socket listening on unix:{}", path);
            return new ControlServer(group, ch, path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("interrupted while binding " + path, e);
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            // Netty rethrows the bind's checked exception undeclared.
            throw new IOException("cannot listen on unix:" + path + ": " + e.getMessage(), e);
        }
    }

    private static final class Handler extends SimpleChannelInboundHandler<String> {

        private final Actions actions;
        private boolean answered;

        Handler(Actions actions) {
            this.actions = actions;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            if (answered) {
                return; // one request per connection
            }
            answered = true;
            // The request is in: the reply may take as long as a resolution (refresh), which
            // is bounded below, not by the read timeout meant for slow senders.
            ctx.pipeline().remove(ReadTimeoutHandler.class);
            int uid;
            try {
                uid = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials().uid();
            } catch (IOException e) {
                uid = -1; // logged as such: the kernel would not say
            }
            ControlRequest request = ControlRequest.parse(line);
            CompletableFuture<ControlReply> reply = request instanceof ControlRequest.Invalid i
                    ? CompletableFuture.completedFuture(ControlReply.error(i.why()))
                    : actions.act(request, uid);
            reply.orTimeout(60, TimeUnit.SECONDS).whenComplete((r, e) -> {
                ControlReply out = e == null ? r : ControlReply.error("failed: "
                        + (e.getCause() != null ? e.getCause() : e).getMessage());
                ctx.writeAndFlush(out.text()).addListener(ChannelFutureListener.CLOSE);
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException && !answered) {
                answered = true;
                ctx.writeAndFlush(ControlReply.error("request longer than "
                        + ControlRequest.MAX_LINE + " bytes").text())
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            // A client gone or too slow: nothing to tell anyone.
            ctx.close();
        }
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("cannot remove socket path={} error=\"{}\"", path, e.getMessage());
        }
    }
}
