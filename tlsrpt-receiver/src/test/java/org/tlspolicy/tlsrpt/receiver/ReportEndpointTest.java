package org.tlspolicy.tlsrpt.receiver;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.dkim.DkimVerifier;
import org.tlspolicy.testworld.TestCa;
import org.tlspolicy.tlsrpt.received.ReportLimits;
import org.tlspolicy.tlsrpt.report.TlsReport;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The RFC 8460 §5.4 endpoint over real TLS (a certificate from a test CA, the JDK's HTTP client
 * trusting that CA): a report POSTed as gzip or JSON is stored, the same one again is a
 * duplicate, a broken one 400 and quarantined, and other types, methods and sizes are refused.
 */
class ReportEndpointTest {

    @TempDir
    Path dir;

    ReceivedStore store;
    ReportEndpoint endpoint;
    HttpClient client;

    @BeforeEach
    void start() throws Exception {
        TestCa ca = TestCa.create("endpoint test CA");
        Path pem = ca.issue("localhost").writePem(dir.resolve("endpoint.pem"));
        store = ReceivedStore.sqlite(dir.resolve("r.db"));
        Ingest ingest = new Ingest(store, ReportLimits.DEFAULT, new DkimVerifier((s, d)
                -> Optional.empty()), new Quarantine(dir.resolve("q")), Instant::now);
        endpoint = ReportEndpoint.start(new InetSocketAddress("127.0.0.1", 0), pem, "/tlsrpt",
                64 * 1024, ingest, store);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        client = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        endpoint.close();
        store.close();
    }

    HttpResponse<String> post(String type, byte[] body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                + endpoint.address().getPort() + "/tlsrpt")).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void reportsAreStoredOnceAndTheRestRefused() throws Exception {
        TlsReport r = IngestTest.report("example.test");
        HttpResponse<String> stored = post("application/tlsrpt+gzip", r.gzip());
        assertEquals(200, stored.statusCode());
        assertEquals("stored " + r.reportId() + "\n", stored.body());
        HttpResponse<String> again = post("application/tlsrpt+json", r.json());
        assertEquals(200, again.statusCode());
        assertTrue(again.body().startsWith("duplicate "));
        HttpResponse<String> broken = post("application/tlsrpt+json", "{\"a\":1}".getBytes());
        assertEquals(400, broken.statusCode());
        assertTrue(broken.body().contains("no report-id"), broken.body());
        try (var q = Files.list(dir.resolve("q"))) {
            assertEquals(2, q.count()); // the body and its reason
        }
        assertEquals(415, post("application/json", r.json()).statusCode());
        assertEquals(413, post("application/tlsrpt+gzip", new byte[65 * 1024]).statusCode());
        assertEquals(405, client.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                + endpoint.address().getPort() + "/tlsrpt")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(java.util.Map.of("duplicate", 1L, "rejected", 1L, "stored", 1L),
                store.counters());
    }
}
