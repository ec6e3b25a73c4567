package org.tlspolicy.socketmap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/** A blocking socketmap client for tests: sends raw bytes, reads netstring replies. */
public final class TestClient implements AutoCloseable {

    private final SocketChannel channel;

    public TestClient(SocketAddress address) throws IOException {
        channel = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        channel.connect(address);
    }

    /** A TCP client connecting from {@code from} (another loopback address: another peer). */
    public TestClient(SocketAddress address, java.net.InetAddress from) throws IOException {
        channel = SocketChannel.open();
        channel.bind(new java.net.InetSocketAddress(from, 0));
        channel.connect(address);
    }

    void send(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    void send(String raw) throws IOException {
        send(raw.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends one request and returns its reply payload. */
    public String lookup(String map, String key) throws IOException {
        send(Netstring.encode(map + " " + key));
        return readReply();
    }

    /** Reads one reply payload; null if the server closed the connection first. */
    String readReply() throws IOException {
        ByteArrayOutputStream prefix = new ByteArrayOutputStream();
        int b;
        while ((b = readByte()) != ':') {
            if (b < 0) {
                return null;
            }
            prefix.write(b);
        }
        int length = Integer.parseInt(prefix.toString(StandardCharsets.US_ASCII));
        ByteBuffer payload = ByteBuffer.allocate(length + 1);
        while (payload.hasRemaining()) {
            if (channel.read(payload) < 0) {
                throw new IOException("connection closed inside a reply");
            }
        }
        if (payload.get(length) != ',') {
            throw new IOException("reply not terminated by ','");
        }
        return new String(payload.array(), 0, length, StandardCharsets.UTF_8);
    }

    /** True when the server has closed the connection (reads end of stream). */
    boolean closedByServer() throws IOException {
        try {
            return readByte() < 0;
        } catch (IOException e) {
            return true; // reset by the server counts as closed
        }
    }

    private int readByte() throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        int n;
        do {
            n = channel.read(one);
        } while (n == 0);
        return n < 0 ? -1 : one.get(0) & 0xff;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
