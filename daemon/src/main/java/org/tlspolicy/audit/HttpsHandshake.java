package org.tlspolicy.audit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/**
 * The TLS handshake with an MTA-STS policy host (RFC 8461 §3.3), to see the chain it sends
 * and its days to expiry, apart from the policy fetch, which stops at the first problem.
 */
final class HttpsHandshake {

    private final Duration timeout;
    private final int port;

    HttpsHandshake(Duration timeout, int port) {
        this.timeout = timeout;
        this.port = port;
    }

    Handshake probe(String host, InetAddress address) {
        int ms = (int) timeout.toMillis();
        try (Socket s = new Socket()) {
            java.util.concurrent.ScheduledFuture<?> cutOff = ChainCollector.cutOff(s, 2L * ms);
            try {
                s.connect(new InetSocketAddress(address, port), ms);
            } catch (IOException e) {
                return new Handshake.Unreachable("connect to " + address.getHostAddress() + ":"
                        + port + " failed: " + ChainCollector.message(e));
            }
            s.setSoTimeout(ms);
            try {
                return ChainCollector.handshake(s, host, ms, null);
            } finally {
                cutOff.cancel(false);
            }
        } catch (IOException e) {
            return new Handshake.Unreachable(ChainCollector.message(e));
        }
    }
}
