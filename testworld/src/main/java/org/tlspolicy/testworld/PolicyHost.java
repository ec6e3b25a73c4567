package org.tlspolicy.testworld;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTPS server on 127.0.0.1 for MTA-STS policy fetches, written on raw TLS sockets so
 * that a test controls every byte: good policies, and the hostile hosts of RFC 8461's threat
 * model (redirects, huge or dripping bodies, wrong media types, resets). The responder can be
 * swapped while the host runs, as a policy host changes its policy or breaks.
 */
public final class PolicyHost implements AutoCloseable {

    /** Writes the response to one request. */
    @FunctionalInterface
    public interface Responder {
        void respond(Socket socket, String requestLine) throws IOException, InterruptedException;
    }

    private final SSLServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "policy-host");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> requestLines = new CopyOnWriteArrayList<>();
    private volatile Responder responder;

    private PolicyHost(SSLServerSocket server, Responder responder) {
        this.server = server;
        this.responder = responder;
        threads.execute(this::acceptLoop);
    }

    /** Starts a host presenting {@code identity}'s certificate, on a free port. */
    public static PolicyHost start(TestCa.ServerIdentity identity, Responder responder)
            throws Exception {
        return start(identity, responder, new InetSocketAddress("127.0.0.1", 0));
    }

    /**
     * Starts a host presenting {@code identity}'s certificate at {@code address} (port 443 on
     * a loopback address of its own, say, where a daemon run as in production looks for it).
     */
    public static PolicyHost start(TestCa.ServerIdentity identity, Responder responder,
                                   InetSocketAddress address) throws Exception {
        return start(identity.serverContext(), responder, address);
    }

    /** Starts a host with TLS {@code context} (e.g. {@link TestCa#anyNameServerContext()}). */
    public static PolicyHost start(SSLContext context, Responder responder,
                                   InetSocketAddress address) throws Exception {
        SSLServerSocket s = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket();
        s.setReuseAddress(true);
        s.bind(address, 50);
        return new PolicyHost(s, responder);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Requests received so far (complete request heads). */
    public int requests() {
        return requests.get();
    }

    public List<String> requestLines() {
        return List.copyOf(requestLines);
    }

    public void respondWith(Responder r) {
        this.responder = r;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                threads.execute(() -> serve(s));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(30_000);
            ((SSLSocket) socket).startHandshake();
            String head = readHead(socket.getInputStream());
            if (head == null) {
                return;
            }
            String line = head.split("\r\n", 2)[0];
            requestLines.add(line);
            requests.incrementAndGet();
            responder.respond(socket, line);
        } catch (IOException | InterruptedException e) {
            // the client went away, or a handshake failed: what hostile tests expect
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && b.length() < 8192) {
            b.append((char) c);
            if (b.length() >= 4 && b.lastIndexOf("\r\n\r\n") == b.length() - 4) {
                return b.toString();
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }

    // ---- responders -------------------------------------------------------------------------

    /** 200, text/plain, the body. */
    public static Responder ok(String body) {
        return withType("text/plain", body);
    }

    /** 200 with the given media type. */
    public static Responder withType(String contentType, String body) {
        return (socket, line) -> {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            write(socket, "HTTP/1.1 200 OK\r\nContent-Type: " + contentType
                    + "\r\nContent-Length: " + b.length + "\r\nConnection: close\r\n\r\n", b);
        };
    }

    /** A status without a usable body (404, 500, …). */
    public static Responder status(int code) {
        return (socket, line) -> write(socket, "HTTP/1.1 " + code + " Status\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                new byte[0]);
    }

    /** A redirect to {@code location}. */
    public static Responder redirect(int code, String location) {
        return (socket, line) -> write(socket, "HTTP/1.1 " + code + " Moved\r\nLocation: "
                + location + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", new byte[0]);
    }

    /**
     * A text/plain body of {@code bytes} bytes, sent as fast as the client reads, without a
     * Content-Length (so only reading can tell its size). Stops when the client goes away.
     */
    public static Responder huge(long bytes) {
        return (socket, line) -> {
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = "mx: mx.example.net\n".repeat(512).getBytes(StandardCharsets.US_ASCII);
            for (long sent = 0; sent < bytes; sent += chunk.length) {
                out.write(chunk);
            }
            out.flush();
        };
    }

    /** The body, one byte every {@code interval}, with a correct Content-Length. */
    public static Responder drip(String body, Duration interval) {
        return (socket, line) -> {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                    + b.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (byte x : b) {
                Thread.sleep(interval.toMillis());
                out.write(x);
                out.flush();
            }
        };
    }

    /** {@code then}, after a pause (a slow policy host). */
    public static Responder delayed(Duration pause, Responder then) {
        return (socket, line) -> {
            Thread.sleep(pause.toMillis());
            then.respond(socket, line);
        };
    }

    /** Reads the request, then resets the connection (RST, no response). */
    public static Responder reset() {
        return (socket, line) -> {
            socket.setSoLinger(true, 0);
            socket.close();
        };
    }

    private static void write(Socket socket, String head, byte[] body) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }
}
