package org.tlspolicy.socketmap;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketAddress;
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
 * A socketmap client, as Postfix is one: asks {@code NAME KEY}, reads one reply netstring,
 * within a deadline per question (connecting included); a reply over
 * {@link Netstring#MAX_REPLY_PAYLOAD} or not a netstring is an error. The connection is kept
 * between questions and made again, once, when the server closed it meanwhile (its idle
 * timeout, a restart). Used by doctor (is the daemon answering?) and by tlsrpt-sender (which
 * policy did a domain's sessions run under?); not thread-safe beyond its own lock.
 */
public final class SocketmapClient implements AutoCloseable {

    private final SocketAddress address;
    private final Duration timeout;
    private SocketChannel channel;
    private Selector selector;

    /**
     * @param address an {@link java.net.InetSocketAddress} or a {@link UnixDomainSocketAddress}
     * @param timeout for each question, connecting included
     */
    public SocketmapClient(SocketAddress address, Duration timeout) {
        this.address = address;
        this.timeout = timeout;
    }

    /** One question on a connection of its own. */
    public static String askOnce(SocketAddress address, String name, String key,
                                 Duration timeout) throws IOException {
        try (SocketmapClient c = new SocketmapClient(address, timeout)) {
            return c.ask(name, key);
        }
    }

    /**
     * Sends {@code name key} and returns the reply's payload, e.g. {@code NOTFOUND } or
     * {@code OK dane-only}.
     *
     * @throws IOException refused, nothing within the timeout, a malformed reply
     */
    public synchronized String ask(String name, String key) throws IOException {
        boolean kept = channel != null;
        try {
            return exchange(name, key);
        } catch (SocketTimeoutException e) {
            close();
            throw e;
        } catch (IOException e) {
            close();
            if (!kept) {
                throw e;
            }
            return exchange(name, key); // the server closed a kept connection: once more
        }
    }

    private String exchange(String name, String key) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (channel == null) {
            connect(deadline);
        }
        ByteBuffer out = ByteBuffer.wrap(Netstring.encode(name + " " + key));
        channel.keyFor(selector).interestOps(SelectionKey.OP_WRITE);
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                await(deadline);
            }
        }
        channel.keyFor(selector).interestOps(SelectionKey.OP_READ);
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(4096);
        while (true) {
            int n = channel.read(b.clear());
            if (n < 0) {
                throw new EOFException("connection closed before a full reply");
            }
            in.write(b.array(), 0, n);
            String reply = complete(in.toByteArray());
            if (reply != null) {
                return reply;
            }
            if (n == 0) {
                await(deadline);
            }
        }
    }

    private void connect(long deadline) throws IOException {
        SocketChannel ch = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        Selector s = Selector.open();
        try {
            ch.configureBlocking(false);
            SelectionKey k = ch.register(s, SelectionKey.OP_CONNECT);
            channel = ch;
            selector = s;
            if (!ch.connect(address)) {
                await(deadline);
                ch.finishConnect();
            }
            k.interestOps(0);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void await(long deadline) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0 || selector.select(left) == 0) {
            throw new SocketTimeoutException("no answer within " + timeout.toMillis() + " ms");
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

    @Override
    public synchronized void close() {
        try {
            if (channel != null) {
                channel.close();
            }
            if (selector != null) {
                selector.close();
            }
        } catch (IOException ignored) {
            // closing: nothing to do about it
        } finally {
            channel = null;
            selector = null;
        }
    }
}
