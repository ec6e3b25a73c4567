package org.tlspolicy.socketmap;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One question to a socketmap server, as Postfix asks it: for checking that a listener really
 * answers (doctor), not for serving. The whole exchange, connecting included, has one deadline;
 * a reply over {@link Netstring#MAX_REPLY_PAYLOAD} or not a netstring is an error.
 */
public final class SocketmapClient {

    private SocketmapClient() {
    }

    /**
     * Sends {@code name key} to {@code address} and returns the reply's payload, e.g.
     * {@code NOTFOUND } or {@code PERM unknown map name 'x'}.
     *
     * @throws IOException connection refused, nothing within {@code timeout}, a malformed reply
     */
    public static String ask(ListenAddress address, String name, String key, Duration timeout)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (SocketChannel ch = address instanceof ListenAddress.Unix
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
             Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            boolean connected = ch.connect(address instanceof ListenAddress.Tcp tcp
                    ? tcp.address() : UnixDomainSocketAddress.of(((ListenAddress.Unix) address)
                    .path()));
            if (!connected) {
                ch.register(selector, SelectionKey.OP_CONNECT);
                await(selector, deadline);
                ch.finishConnect();
            }
            ByteBuffer out = ByteBuffer.wrap(Netstring.encode(name + " " + key));
            while (out.hasRemaining()) {
                if (ch.write(out) == 0) {
                    ch.register(selector, SelectionKey.OP_WRITE);
                    await(selector, deadline);
                }
            }
            ch.register(selector, SelectionKey.OP_READ);
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (true) {
                int n = ch.read(b.clear());
                if (n < 0) {
                    throw new EOFException("connection closed before a full reply");
                }
                in.write(b.array(), 0, n);
                String reply = complete(in.toByteArray());
                if (reply != null) {
                    return reply;
                }
                if (n == 0) {
                    await(selector, deadline);
                }
            }
        }
    }

    private static void await(Selector selector, long deadline) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0 || selector.select(left) == 0) {
            throw new SocketTimeoutException("no answer in time");
        }
        selector.selectedKeys().clear();
    }

    /** The payload of a complete netstring in {@code bytes}; null while more is needed. */
    static String complete(byte[] bytes) throws IOException {
        int colon = -1;
        for (int i = 0; i < bytes.length && i <= Netstring.MAX_LENGTH_DIGITS; i++) {
            if (bytes[i] == ':') {
                colon = i;
                break;
            }
            if (bytes[i] < '0' || bytes[i] > '9') {
                throw new IOException("reply is not a netstring");
            }
        }
        if (colon < 0) {
            if (bytes.length > Netstring.MAX_LENGTH_DIGITS) {
                throw new IOException("reply is not a netstring");
            }
            return null;
        }
        if (colon == 0) {
            throw new IOException("reply is not a netstring");
        }
        long length = Long.parseLong(new String(bytes, 0, colon, StandardCharsets.US_ASCII));
        if (length > Netstring.MAX_REPLY_PAYLOAD) {
            throw new IOException("reply of " + length + " bytes, over the socketmap limit");
        }
        int end = colon + 1 + (int) length;
        if (bytes.length <= end) {
            return null;
        }
        if (bytes[end] != ',') {
            throw new IOException("reply is not a netstring");
        }
        return new String(bytes, colon + 1, (int) length, StandardCharsets.UTF_8);
    }
}
