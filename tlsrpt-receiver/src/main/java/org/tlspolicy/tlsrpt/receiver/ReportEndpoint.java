package org.tlspolicy.tlsrpt.receiver;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The RFC 8460 §5.4 HTTPS endpoint: a {@code POST} of {@code application/tlsrpt+gzip} or
 * {@code application/tlsrpt+json} to {@code path}, over TLS with the operator's certificate.
 * 200 for a report stored or already there, 400 for one refused (kept in the quarantine), 413
 * past the size bound (read no further), 415 for another media type, 405 for another method,
 * 503 when the store cannot take it (the reporter tries again). Bodies are read up to the
 * bound only; requests are served by a fixed number of threads, and the JDK server's own time
 * limits close slow ones (set by the command: {@code sun.net.httpserver.maxReqTime}).
 */
public final class ReportEndpoint implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReportEndpoint.class);

    /** Requests served at once; more wait in the backlog. */
    static final int THREADS = 4;

    private final HttpsServer server;
    private final ExecutorService threads;

    private ReportEndpoint(HttpsServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    /**
     * Serves at {@code address}, presenting the key and chain of {@code pem}; each report goes
     * to {@code ingest}, whose store writes are committed under {@code lock} (one writer).
     */
    public static ReportEndpoint start(InetSocketAddress address, Path pem, String path,
                                       int maxBody, Ingest ingest, ReceivedStore store)
            throws Exception {
        HttpsServer s = HttpsServer.create(address, 64);
        s.setHttpsConfigurator(new HttpsConfigurator(context(pem)));
        ExecutorService threads = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "https");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(threads);
        s.createContext(path, exchange -> {
            try (exchange) {
                handle(exchange, maxBody, ingest, store);
            } catch (IOException e) {
                // the client went away
            }
        });
        s.start();
        log.info("listen address={} path={} max_report={}", s.getAddress(), path, maxBody);
        return new ReportEndpoint(s, threads);
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private static void handle(HttpExchange x, int maxBody, Ingest ingest, ReceivedStore store)
            throws IOException {
        if (!x.getRequestMethod().equals("POST")) {
            reply(x, 405, "POST only\n");
            return;
        }
        String type = String.valueOf(x.getRequestHeaders().getFirst("Content-Type"))
                .split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!type.equals("application/tlsrpt+gzip") && !type.equals("application/tlsrpt+json")) {
            reply(x, 415, "application/tlsrpt+gzip or application/tlsrpt+json (RFC 8460 §5.4)\n");
            return;
        }
        byte[] body;
        try (InputStream in = x.getRequestBody()) {
            body = in.readNBytes(maxBody + 1);
        }
        if (body.length > maxBody) {
            reply(x, 413, "over " + maxBody + " bytes\n");
            return;
        }
        Ingest.Outcome o;
        synchronized (store) {
            try {
                o = ingest.https(body);
                store.commit();
            } catch (SQLException | IOException e) {
                try {
                    store.rollback();
                } catch (SQLException ignored) {
                    // the connection is gone; the reporter tries again
                }
                log.error("https cannot store: {}", e.getMessage());
                reply(x, 503, "cannot store now; try again later\n");
                return;
            }
        }
        if (o instanceof Ingest.Outcome.Rejected r) {
            reply(x, 400, "rejected: " + r.reason() + "\n");
        } else {
            reply(x, 200, o.word() + " " + o.reportId() + "\n");
        }
    }

    private static void reply(HttpExchange x, int status, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    /** The TLS context of a PEM file holding the private key and the certificate chain. */
    static SSLContext context(Path pem) throws Exception {
        PrivateKey key = null;
        List<X509Certificate> chain = new ArrayList<>();
        JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
        JcaX509CertificateConverter certs = new JcaX509CertificateConverter();
        try (Reader r = Files.newBufferedReader(pem, StandardCharsets.US_ASCII);
             PEMParser p = new PEMParser(r)) {
            for (Object o; (o = p.readObject()) != null; ) {
                if (o instanceof PrivateKeyInfo info) {
                    key = keys.getPrivateKey(info);
                } else if (o instanceof PEMKeyPair pair) {
                    key = keys.getKeyPair(pair).getPrivate();
                } else if (o instanceof X509CertificateHolder h) {
                    chain.add(certs.getCertificate(h));
                }
            }
        }
        if (key == null || chain.isEmpty()) {
            throw new IOException(pem + " must hold the private key and the certificate chain");
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = "x".toCharArray();
        ks.setKeyEntry("endpoint", key, pw, chain.toArray(X509Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(
                KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(kmf.getKeyManagers(), null, null);
        return c;
    }

    @Override
    public void close() {
        server.stop(1);
        threads.shutdownNow();
    }
}
