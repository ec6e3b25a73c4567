package org.tlspolicy.socketmap;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared socketmap client against a real TCP server on loopback (a few lines of
 * netstring serving, which is what the client's peer is): replies, a kept connection the
 * server closed, a server that never answers, replies over the limit or not netstrings.
 */
class SocketmapClientTest {

    /** Reads one request netstring from {@code in}; null at end of stream. */
    static String request(InputStream in) throws IOException {
        StringBuilder len = new StringBuilder();
        for (int c; (c = in.read()) != ':'; ) {
            if (c < 0) {
                return null;
            }
            len.append((char) c);
        }
        byte[] body = in.readNBytes(Integer.parseInt(len.toString()) + 1);
        return new String(body, 0, body.length - 1, StandardCharsets.UTF_8);
    }

    /**
     * A server answering each request with {@code reply.apply(request)} (raw bytes), closing
     * each connection after {@code perConnection} answers.
     */
    static ServerSocket serve(Function<String, byte[]> reply, int perConnection)
            throws IOException {
        ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    for (int i = 0; i < perConnection; i++) {
                        String r = request(s.getInputStream());
                        if (r == null) {
                            break;
                        }
                        s.getOutputStream().write(reply.apply(r));
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server;
    }

    static InetSocketAddress at(ServerSocket s) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
    }

    @Test
    void asksAndKeepsTheConnectionAndReconnectsOnceWhenTheServerClosedIt() throws Exception {
        try (ServerSocket server = serve(r -> Netstring.encode("OK " + r), 2);
             SocketmapClient c = new SocketmapClient(at(server), Duration.ofSeconds(5))) {
            assertEquals("OK postfix example.com", c.ask("postfix", "example.com"));
            assertEquals("OK postfix example.net", c.ask("postfix", "example.net"));
            // The server closed after two: the third goes on a new connection, transparently.
            assertEquals("OK tlsrpt example.org", c.ask("tlsrpt", "example.org"));
        }
        assertEquals("NOTFOUND ", SocketmapClient.askOnce(at(serve(r -> Netstring.encode(
                "NOTFOUND "), 1)), "postfix", "x", Duration.ofSeconds(5)));
    }

    @Test
    void silenceOversizeAndGarbageAreErrorsNotAnswers() throws Exception {
        try (ServerSocket silent = serve(r -> {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new byte[0];
        }, 1)) {
            assertThrows(SocketTimeoutException.class, () -> SocketmapClient.askOnce(
                    at(silent), "postfix", "x", Duration.ofMillis(300)));
        }
        try (ServerSocket huge = serve(r -> "100001:".getBytes(StandardCharsets.US_ASCII), 1)) {
            IOException e = assertThrows(IOException.class, () -> SocketmapClient.askOnce(
                    at(huge), "postfix", "x", Duration.ofSeconds(5)));
            assertTrue(e.getMessage().contains("over the socketmap limit"), e.getMessage());
        }
        try (ServerSocket garbage = serve(r -> "HTTP/1.1 400\r\n".getBytes(
                StandardCharsets.US_ASCII), 1)) {
            IOException e = assertThrows(IOException.class, () -> SocketmapClient.askOnce(
                    at(garbage), "postfix", "x", Duration.ofSeconds(5)));
            assertEquals("reply is not a netstring", e.getMessage());
        }
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = closed.getLocalPort();
            closed.close();
            assertThrows(IOException.class, () -> SocketmapClient.askOnce(new InetSocketAddress(
                    InetAddress.getLoopbackAddress(), port), "postfix", "x",
                    Duration.ofSeconds(5)));
        }
    }

    @Property
    void everyNetstringIsReadBackAndNoPrefixOfOneIsAnAnswer(
            @ForAll @StringLength(max = 2000) String payload) throws IOException {
        byte[] framed = Netstring.encode(payload);
        assertEquals(payload, SocketmapClient.complete(framed));
        for (int cut = 0; cut < framed.length; cut += Math.max(1, framed.length / 17)) {
            assertNull(SocketmapClient.complete(Arrays.copyOf(framed, cut)));
        }
    }
}
