package org.tlspolicy.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A socketmap client as Postfix is one: one connection, one request at a time. */
final class SocketmapClient implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    SocketmapClient(int port, int timeoutMillis) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Asks {@code map} for {@code key}; returns the reply's payload, e.g. "OK secure …". */
    String lookup(String map, String key) throws IOException {
        byte[] request = (map + " " + key).getBytes(StandardCharsets.UTF_8);
        out.write((request.length + ":").getBytes(StandardCharsets.US_ASCII));
        out.write(request);
        out.write(',');
        out.flush();
        int length = 0;
        for (int c; (c = in.read()) != ':'; ) {
            if (c < '0' || c > '9') {
                throw new IOException("not a netstring (" + c + ")");
            }
            length = length * 10 + (c - '0');
        }
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        for (int i = 0; i < length; i++) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed in a reply");
            }
            payload.write(c);
        }
        if (in.read() != ',') {
            throw new IOException("netstring without its comma");
        }
        return payload.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
