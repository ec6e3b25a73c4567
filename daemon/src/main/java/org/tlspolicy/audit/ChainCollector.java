package org.tlspolicy.audit;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A TLS client handshake that takes whatever chain the server sends: the audit judges it apart
 * ({@link ServedChain}) so as to name every problem, where a validating client stops at the
 * first. Nothing is sent over the connection but an optional goodbye.
 */
final class ChainCollector {

    private static final SSLContext TAKE_ALL = takeAll();

    private static final ScheduledExecutorService WATCHDOG =
            Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "audit-watchdog");
                t.setDaemon(true);
                return t;
            });

    /**
     * Closes {@code s} after {@code ms} unless cancelled: the bound of a whole conversation,
     * where each read has its own limit and a server dripping a byte within each would
     * otherwise hold a probe for as long as it liked.
     */
    static ScheduledFuture<?> cutOff(Socket s, long ms) {
        return WATCHDOG.schedule(() -> {
            try {
                s.close();
            } catch (IOException e) {
                // closing is all that is wanted
            }
        }, ms, TimeUnit.MILLISECONDS);
    }

    private ChainCollector() {
    }

    /**
     * TLS over {@code plain}, already connected, with SNI {@code host} (RFC 6066, as Postfix
     * and every HTTPS client send it), each read bounded by {@code timeoutMs}; then {@code
     * goodbye} (e.g. SMTP's QUIT), if not null.
     */
    static Handshake handshake(Socket plain, String host, int timeoutMs, String goodbye)
            throws IOException {
        // The name, not the address, keys the JDK's session cache: many names share one
        // address (a hosting provider's policy hosts), and a session resumed from another
        // name's handshake would show that name's certificate (bench AuditBenchmark found it).
        SSLSocket tls = (SSLSocket) TAKE_ALL.getSocketFactory().createSocket(plain, host,
                plain.getPort(), false);
        SSLParameters p = tls.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(host)));
        tls.setSSLParameters(p);
        tls.setSoTimeout(timeoutMs);
        try {
            tls.startHandshake();
        } catch (IOException e) {
            return new Handshake.Failed("TLS handshake failed: " + message(e));
        }
        List<X509Certificate> chain = new ArrayList<>();
        for (Certificate c : tls.getSession().getPeerCertificates()) {
            chain.add((X509Certificate) c);
        }
        Handshake secured = new Handshake.Secured(tls.getSession().getProtocol(),
                tls.getSession().getCipherSuite(), chain);
        // Never resumed: each probe must see the chain the server sends now.
        tls.getSession().invalidate();
        if (goodbye != null) {
            try {
                tls.getOutputStream().write(goodbye.getBytes(StandardCharsets.US_ASCII));
                tls.getOutputStream().flush();
            } catch (IOException e) {
                // the result is in hand
            }
        }
        return secured;
    }

    /** The most telling message of {@code t} and its causes. */
    static String message(Throwable t) {
        String m = t.getMessage();
        while (t.getCause() != null && (m == null || m.isBlank())) {
            t = t.getCause();
            m = t.getMessage();
        }
        return m == null ? t.getClass().getSimpleName() : m;
    }

    private static SSLContext takeAll() {
        try {
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    // judged apart, by ServedChain
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
    }
}
