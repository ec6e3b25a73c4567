package org.tlspolicy.bench;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What the policy host itself allows: every policy of a key file fetched at once by a plain
 * client, as many at a time as tlspolicyd's outbound HTTPS cap lets a relay (a new TLS
 * connection each, SNI the policy host's name, the whole response read), with no DNS and no
 * decisions. bench/run-burst puts a relay's burst beside it: what a burst cannot beat on this
 * machine.
 *
 * <pre>
 * java -cp tlspolicy-bench.jar org.tlspolicy.bench.FetchCeiling KEYS CA.pem HOST:PORT CONCURRENCY
 * </pre>
 *
 * <p>Prints one line: {@code label=fetch-ceiling fetches=N total_ms=… p50_ms=… max_ms=…
 * failures=N}.
 */
public final class FetchCeiling {

    private FetchCeiling() {
    }

    public static void main(String[] args) throws Exception {
        // The bench world's one certificate names every policy host (tens of KB), more than
        // the JDK takes by default; tlspolicyd's BoringSSL takes it as it is.
        System.setProperty("jdk.tls.maxHandshakeMessageSize", "262144");
        List<String> domains = Files.readAllLines(Path.of(args[0])).stream()
                .filter(l -> !l.isBlank()).map(String::strip).toList();
        SSLContext tls = context(Path.of(args[1]));
        String[] hostPort = args[2].split(":");
        InetSocketAddress server = new InetSocketAddress(hostPort[0],
                Integer.parseInt(hostPort[1]));
        int concurrency = Integer.parseInt(args[3]);
        ExecutorService threads = Executors.newFixedThreadPool(concurrency);
        long start = System.nanoTime();
        List<Future<Long>> fetches = new ArrayList<>();
        for (String d : domains) {
            fetches.add(threads.submit(() -> fetch(tls, server, "mta-sts." + d, start)));
        }
        long[] done = new long[fetches.size()];
        int failures = 0;
        String firstFailure = "";
        for (int i = 0; i < done.length; i++) {
            try {
                done[i] = fetches.get(i).get();
            } catch (Exception e) {
                if (failures++ == 0) {
                    firstFailure = String.valueOf(e.getCause() != null ? e.getCause() : e);
                }
                done[i] = System.nanoTime() - start;
            }
        }
        long total = System.nanoTime() - start;
        threads.shutdown();
        Arrays.sort(done);
        System.out.printf(Locale.ROOT, "label=fetch-ceiling fetches=%d total_ms=%.0f p50_ms=%.0f "
                        + "max_ms=%.0f failures=%d%s%n", done.length, total / 1e6,
                done[done.length / 2] / 1e6, done[done.length - 1] / 1e6, failures,
                failures == 0 ? "" : " first_failure=\"" + firstFailure.replace('"', '\'')
                        + "\"");
    }

    /** One fetch; returns when it ended, in nanoseconds since {@code start}. */
    private static long fetch(SSLContext tls, InetSocketAddress server, String host, long start)
            throws Exception {
        java.net.Socket plain = new java.net.Socket();
        plain.connect(server, 10_000);
        // Layered with the host name: the name the certificate is checked against.
        try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(plain, host,
                server.getPort(), true)) {
            s.setSoTimeout(30_000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(host)));
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.startHandshake();
            OutputStream out = s.getOutputStream();
            out.write(("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            while (in.read(buf) >= 0) {
                // the whole response, as a fetch reads it
            }
        }
        return System.nanoTime() - start;
    }

    private static SSLContext context(Path caPem) throws Exception {
        KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
        anchors.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            anchors.setCertificateEntry("ca", CertificateFactory.getInstance("X.509")
                    .generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(
                TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(anchors);
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, tmf.getTrustManagers(), null);
        return c;
    }
}
