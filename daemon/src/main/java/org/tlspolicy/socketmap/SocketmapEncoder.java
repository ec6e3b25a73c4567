package org.tlspolicy.socketmap;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** Encodes {@link SocketmapReply} values as netstrings. Stateless, so one instance serves all. */
@ChannelHandler.Sharable
public final class SocketmapEncoder extends MessageToByteEncoder<SocketmapReply> {

    public static final SocketmapEncoder INSTANCE = new SocketmapEncoder();

    private SocketmapEncoder() {
        super(SocketmapReply.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, SocketmapReply reply, ByteBuf out) {
        out.writeBytes(reply.encoded());
    }
}
