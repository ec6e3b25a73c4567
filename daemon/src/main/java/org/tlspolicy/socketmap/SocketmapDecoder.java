package org.tlspolicy.socketmap;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Decodes socketmap requests ({@code LEN:NAME KEY,}) into {@link SocketmapFrame}s.
 *
 * <p>Requests split across reads are reassembled and several requests in one read are emitted in
 * order. Limits are enforced before anything is buffered: a length over
 * {@link Netstring#MAX_REQUEST_PAYLOAD} is refused as soon as its digits are read, so a hostile
 * client cannot make us hold more than one request's worth of bytes.
 *
 * <p>After the first malformed frame the stream cannot be resynchronised (there is no way to
 * know where the next request would start), so the decoder emits one {@link
 * SocketmapFrame.Malformed} and discards everything after it.
 */
public final class SocketmapDecoder extends ByteToMessageDecoder {

    private boolean failed;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        SocketmapFrame frame = decodeOne(in);
        if (frame == null) {
            return;
        }
        if (frame instanceof SocketmapFrame.Malformed) {
            failed = true;
            in.skipBytes(in.readableBytes());
        }
        out.add(frame);
    }

    /** True while part of a request has arrived and the rest has not. */
    public boolean hasPartialRequest() {
        return !failed && internalBuffer().isReadable();
    }

    /**
     * Decodes one frame from {@code in}, consuming its bytes, or returns null (consuming nothing)
     * when more bytes are needed. Static and channel-free so that tests and fuzzers drive it
     * directly.
     */
    static SocketmapFrame decodeOne(ByteBuf in) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        int length = 0;
        int digits = 0;
        int i = start;
        for (; i < end; i++) {
            byte b = in.getByte(i);
            if (b == ':') {
                break;
            }
            if (b < '0' || b > '9') {
                return new SocketmapFrame.Malformed("bad netstring length: unexpected byte 0x"
                        + Integer.toHexString(b & 0xff));
            }
            if (++digits > Netstring.MAX_LENGTH_DIGITS) {
                return new SocketmapFrame.Malformed("bad netstring length: more than "
                        + Netstring.MAX_LENGTH_DIGITS + " digits");
            }
            length = length * 10 + (b - '0');
            if (length > Netstring.MAX_REQUEST_PAYLOAD) {
                return new SocketmapFrame.Malformed("request longer than "
                        + Netstring.MAX_REQUEST_PAYLOAD + " bytes");
            }
        }
        if (i == end) {
            return null; // the colon has not arrived yet
        }
        if (digits == 0) {
            return new SocketmapFrame.Malformed("bad netstring length: no digits before ':'");
        }
        int payloadStart = i + 1;
        int comma = payloadStart + length;
        if (comma >= end) {
            return null; // payload or comma still to come
        }
        if (in.getByte(comma) != ',') {
            return new SocketmapFrame.Malformed("bad netstring: missing ',' after " + length
                    + " bytes");
        }
        in.readerIndex(comma + 1);
        return parsePayload(in, payloadStart, length);
    }

    private static SocketmapFrame parsePayload(ByteBuf in, int from, int length) {
        int space = in.indexOf(from, from + length, (byte) ' ');
        if (space < 0) {
            return new SocketmapFrame.Malformed("bad request: no space between map name and key");
        }
        if (space == from) {
            return new SocketmapFrame.Malformed("bad request: empty map name");
        }
        String name = mapName(in, from, space - from);
        if (name == null) {
            return new SocketmapFrame.Malformed("bad request: map name is not UTF-8");
        }
        // Invalid UTF-8 in the key becomes U+FFFD, which no domain name contains.
        String key = in.toString(space + 1, from + length - space - 1, StandardCharsets.UTF_8);
        return new SocketmapFrame.Request(name, key);
    }

    /** The map name, or null when it is not valid UTF-8. Map names are ASCII in practice. */
    private static String mapName(ByteBuf in, int from, int length) {
        boolean ascii = true;
        for (int i = from; i < from + length && ascii; i++) {
            ascii = in.getByte(i) >= 0;
        }
        if (ascii) {
            return in.toString(from, length, StandardCharsets.US_ASCII);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(in.nioBuffer(from, length))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
