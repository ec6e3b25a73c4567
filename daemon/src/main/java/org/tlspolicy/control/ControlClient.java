package org.tlspolicy.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The command line's side of the control socket: sends one request line, reads the reply to
 * the end (the daemon closes the connection), within one deadline; at most 16 MiB are read.
 */
public final class ControlClient {

    private static final int MAX_REPLY = 16 << 20;

    private ControlClient() {
    }

    /**
     * Sends {@code request} to the daemon at {@code socket}.
     *
     * @throws IOException the socket cannot be reached, or no full reply in {@code timeout}
     */
    public static ControlReply ask(Path socket, String request, Duration timeout)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            ch.connect(UnixDomainSocketAddress.of(socket)); // local: at once or refused
            ch.configureBlocking(false);
            ByteBuffer out = ByteBuffer.wrap((request.replace('\n', ' ') + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            ch.register(selector, SelectionKey.OP_WRITE);
            while (out.hasRemaining()) {
                if (ch.write(out) == 0) {
                    await(selector, deadline);
                }
            }
            ch.register(selector, SelectionKey.OP_READ);
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(8192);
            while (true) {
                int n = ch.read(b.clear());
                if (n < 0) {
                    break;
                }
                if (n == 0) {
                    await(selector, deadline);
                    continue;
                }
                in.write(b.array(), 0, n);
                if (in.size() > MAX_REPLY) {
                    throw new IOException("reply longer than " + MAX_REPLY + " bytes");
                }
            }
            return parse(in.toString(StandardCharsets.UTF_8));
        }
    }

    private static void await(Selector selector, long deadline) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0 || selector.select(left) == 0) {
            throw new SocketTimeoutException("no complete answer in time");
        }
        selector.selectedKeys().clear();
    }

    static ControlReply parse(String text) throws IOException {
        List<String> lines = Arrays.asList(text.split("\n", -1));
        if (lines.isEmpty() || lines.get(lines.size() - 1).length() > 0) {
            throw new IOException("reply cut short");
        }
        lines = lines.subList(0, lines.size() - 1);
        String first = lines.isEmpty() ? "" : lines.get(0);
        if (first.equals("ok")) {
            return ControlReply.ok(lines.subList(1, lines.size()));
        }
        if (first.startsWith("error: ")) {
            return ControlReply.error(first.substring(7));
        }
        throw new IOException("not a control reply: '" + first + "'");
    }
}
