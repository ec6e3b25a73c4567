package org.tlspolicy.tlsrpt.policy;

import org.tlspolicy.socketmap.SocketmapClient;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
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

    private static final int MAX_CACHED = 10_000;

    private final String endpoint;
    private final SocketmapClient client;
    private final long ttlMillis;
    private final LongSupplier clock;
    private final Map<String, Cached> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > MAX_CACHED;
        }
    };

    private record Cached(AppliedPolicy policy, long until) {
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
        this.client = new SocketmapClient(address(endpoint), timeout);
        this.ttlMillis = ttl.toMillis();
        this.clock = clock;
    }

    /** {@code inet:HOST:PORT} ({@code [v6]} allowed) or {@code unix:PATH}, as main.cf writes it. */
    static SocketAddress address(String endpoint) {
        if (endpoint.startsWith("unix:")) {
            return UnixDomainSocketAddress.of(endpoint.substring(5));
        }
        String hostPort = endpoint.substring(5);
        int colon = hostPort.lastIndexOf(':');
        try {
            return new InetSocketAddress(hostPort.substring(0, colon).replace("[", "")
                    .replace("]", ""), Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("policy server '" + endpoint + "': want "
                    + "inet:HOST:PORT or unix:PATH");
        }
    }

    @Override
    public synchronized AppliedPolicy policy(String domain) throws IOException {
        long now = clock.getAsLong();
        Cached c = cache.get(domain);
        if (c != null && c.until() > now) {
            return c.policy();
        }
        String reply;
        try {
            reply = client.ask("tlsrpt", domain);
        } catch (IOException e) {
            throw new IOException("policy server " + endpoint + ": " + e.getMessage(), e);
        }
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

    @Override
    public synchronized void close() {
        client.close();
    }
}
