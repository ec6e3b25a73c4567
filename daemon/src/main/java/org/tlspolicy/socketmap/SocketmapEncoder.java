package org.tlspolicy.socketmap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/**
 * Encodes {@link SocketmapReply} values as netstrings. Stateless, so one instance serves all.
 * NOTFOUND, the most common reply by far, is one shared read-only buffer: no allocation; an OK
 * reply carries its framed bytes, copied once into a pooled buffer.
 */
@ChannelHandler.Sharable
public final class SocketmapEncoder extends MessageToMessageEncoder<SocketmapReply> {

    public static final SocketmapEncoder INSTANCE = new SocketmapEncoder();

    private static final ByteBuf NOT_FOUND = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer().writeBytes(SocketmapReply.NOT_FOUND.encoded()).asReadOnly());

    private SocketmapEncoder() {
        super(SocketmapReply.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, SocketmapReply reply, List<Object> out) {
        if (reply instanceof SocketmapReply.NotFound) {
            out.add(NOT_FOUND.duplicate());
            return;
        }
        // Straight into a pooled I/O buffer: a heap buffer would be copied to one on write.
        byte[] bytes = reply instanceof SocketmapReply.Ok ok ? ok.wire() : reply.encoded();
        out.add(ctx.alloc().ioBuffer(bytes.length).writeBytes(bytes));
    }
}
