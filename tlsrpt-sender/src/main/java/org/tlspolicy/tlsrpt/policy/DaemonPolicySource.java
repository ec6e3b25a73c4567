package org.tlspolicy.tlsrpt.policy;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Asks tlspolicyd, over its socketmap listener, map {@code tlsrpt}: the policy it applies to
 * a domain (see the daemon's ReportPolicyResolver), with the TLSRPT attributes. Answers are
 * kept for {@code ttl}; one connection is kept open and made again when it breaks.
 *
 * <p>{@code NOTFOUND} and {@code TEMP} (the daemon could not resolve the domain, e.g. DNSSEC
 * failed) both mean: no policy is known to report under, so {@code no-policy-found}. A daemon
 * that cannot be reached, or answers {@code PERM} (one too old for map {@code tlsrpt}), is an
 * error: the caller waits rather than count sessions under a guess.
 */
public final class DaemonPolicySource implements PolicySource, AutoCloseable {

    /** The socketmap reply limit tlspolicyd keeps to (Postfix's). */
    private static final int MAX_REPLY = 100_000;
    private static final int MAX_CACHED = 10_000;

    private final String endpoint;
    private final int timeoutMillis;
    private final long ttlMillis;
    private final LongSupplier clock;
    private final Map<String, Cached> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > MAX_CACHED;
        }
    };
    private Connection connection;

    private record Cached(AppliedPolicy policy, long until) {
    }

    private record Connection(AutoCloseable closer, InputStream in, OutputStream out) {
    }

    /**
     * @param endpoint {@code inet:HOST:PORT} or {@code unix:PATH}, as in main.cf
     * @param timeout  for connecting and for each answer
     * @param ttl      how long an answer is used
     */
    public DaemonPolicySource(String endpoint, Duration timeout, Duration ttl,
                              LongSupplier clock) {
        if (!endpoint.startsWith("inet:") && !endpoint.startsWith("unix:")) {
            throw new IllegalArgumentException("policy server '" + endpoint
                    + "': want inet:HOST:PORT or unix:PATH");
        }
        this.endpoint = endpoint;
        this.timeoutMillis = (int) timeout.toMillis();
        this.ttlMillis = ttl.toMillis();
        this.clock = clock;
    }

    @Override
    public synchronized AppliedPolicy policy(String domain) throws IOException {
        long now = clock.getAsLong();
        Cached c = cache.get(domain);
        if (c != null && c.until() > now) {
            return c.policy();
        }
        String reply = ask("tlsrpt " + domain);
        AppliedPolicy policy;
        if (reply.startsWith("OK ")) {
            policy = PolicyReply.parse(reply.substring(3)).orElse(AppliedPolicy.none(domain));
        } else if (reply.startsWith("NOTFOUND") || reply.startsWith("TEMP")) {
            policy = AppliedPolicy.none(domain);
        } else {
            throw new IOException("policy server " + endpoint + " answered '" + reply + "'");
        }
        cache.put(domain, new Cached(policy, now + ttlMillis));
        return policy;
    }

    private String ask(String request) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                if (connection == null) {
                    connection = connect();
                }
                byte[] r = request.getBytes(StandardCharsets.UTF_8);
                OutputStream out = connection.out();
                out.write((r.length + ":").getBytes(StandardCharsets.US_ASCII));
                out.write(r);
                out.write(',');
                out.flush();
                return readNetstring(connection.in());
            } catch (IOException e) {
                closeConnection();
                // A kept connection the daemon closed (idle timeout, restart): one retry.
                if (attempt > 0 || e instanceof SocketTimeoutException) {
                    throw new IOException("policy server " + endpoint + ": " + e.getMessage(),
                            e);
                }
            }
        }
    }

    private Connection connect() throws IOException {
        if (endpoint.startsWith("unix:")) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(endpoint.substring(5)));
            } catch (IOException e) {
                ch.close();
                throw e;
            }
            // Blocking channel streams have no read timeout; the daemon answers every request
            // within its own lookup_timeout.
            return new Connection(ch, Channels.newInputStream(ch), Channels.newOutputStream(ch));
        }
        String hostPort = endpoint.substring(5);
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw new IOException("no port in " + endpoint);
        }
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(hostPort.substring(0, colon).replace("[", "")
                    .replace("]", ""), Integer.parseInt(hostPort.substring(colon + 1))),
                    timeoutMillis);
            s.setSoTimeout(timeoutMillis);
        } catch (IOException | NumberFormatException e) {
            s.close();
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        return new Connection(s, s.getInputStream(), s.getOutputStream());
    }

    static String readNetstring(InputStream in) throws IOException {
        int length = 0;
        int digits = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("connection closed");
            }
            if (c == ':' && digits > 0) {
                break;
            }
            if (c < '0' || c > '9' || ++digits > 6) {
                throw new IOException("malformed netstring length");
            }
            length = length * 10 + (c - '0');
        }
        if (length > MAX_REPLY) {
            throw new IOException("reply of " + length + " bytes");
        }
        byte[] payload = in.readNBytes(length);
        if (payload.length < length || in.read() != ',') {
            throw new IOException("malformed netstring");
        }
        return new String(payload, StandardCharsets.UTF_8);
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.closer().close();
            } catch (Exception ignored) {
                // gone already
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        closeConnection();
    }
}
