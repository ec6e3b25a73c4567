package org.tlspolicy.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.daemon.PolicyDaemon;
import org.tlspolicy.socketmap.TestClient;
import org.tlspolicy.testworld.Isolated;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The metrics endpoint of a running daemon, scraped with the JDK's HTTP client after real
 * socketmap lookups: the counts follow the lookups, /health answers, other requests are refused.
 */
@Timeout(60)
class MetricsEndpointTest {

    static final HttpClient HTTP = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5)).build();

    static HttpResponse<String> get(InetSocketAddress a, String path, String method)
            throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort()
                        + path)).method(method, HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void countsFollowTheLookupsAndHealthAnswers() throws Exception {
        try (PolicyDaemon daemon = PolicyDaemon.start(ConfigLoader.parse(
                "socketmap: {listen: [\"127.0.0.1:0\"]}\n"
                        + "metrics: {listen: \"127.0.0.1:0\", tlsrpt_store: \"\"}\n"
                        // No start-up DNSSEC check (DNS is unreachable here): /health is ok.
                        + "dane: {dnssec: resolver}\n" + Isolated.CONFIG), Optional.empty());
             TestClient s = new TestClient(daemon.boundAddresses().get(0))) {
            InetSocketAddress metrics = daemon.metricsAddress().orElseThrow();
            assertEquals("NOTFOUND ", s.lookup("postfix", "[mx.example.com]"));
            assertEquals("NOTFOUND ", s.lookup("postfix", "192.0.2.1"));
            // DNS is unreachable here: DANE cannot be decided, TEMP.
            assertTrue(s.lookup("postfix", "example.com").startsWith("TEMP "));
            HttpResponse<String> r = get(metrics, "/metrics", "GET");
            assertEquals(200, r.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8",
                    r.headers().firstValue("content-type").orElse(""));
            String body = r.body();
            assertTrue(body.contains("\ntlspolicyd_lookups_total{reply=\"notfound\","
                    + "source=\"none\"} 2\n"), body);
            assertTrue(body.contains("\ntlspolicyd_lookups_total{reply=\"temp\","
                    + "source=\"none\"} 1\n"), body);
            assertTrue(body.contains("\ntlspolicyd_lookups_total{reply=\"ok\","
                    + "source=\"dane\"} 0\n"), body);
            assertTrue(body.contains("\ntlspolicyd_resolution_seconds_count 1\n"), body);
            assertTrue(body.contains("tlspolicyd_resolution_seconds_bucket{le=\"+Inf\"} 1\n"),
                    body);
            assertTrue(body.contains("\ntlspolicyd_dane_resolutions_total{result="
                    + "\"indeterminate\",background=\"false\"} 1\n"), body);
            assertTrue(body.contains("\ntlspolicyd_cache_entries{cache=\"dane\"} 1\n"), body);
            assertTrue(body.contains("\ntlspolicyd_cache_entries{cache=\"mta-sts\"} "), body);

            HttpResponse<String> health = get(metrics, "/health", "GET");
            assertEquals(200, health.statusCode());
            assertEquals("ok\n", health.body());
            assertEquals(405, get(metrics, "/metrics", "POST").statusCode());
            assertEquals(404, get(metrics, "/other", "GET").statusCode());
            HttpResponse<String> page = get(metrics, "/", "GET");
            assertEquals(200, page.statusCode());
            assertEquals("text/html; charset=utf-8",
                    page.headers().firstValue("content-type").orElse(""));
            assertTrue(page.body().contains("<title>tlspolicyd status</title>"), page.body());
        }
    }

    @Test
    void theEndpointStaysOnLoopback() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("metrics: {listen: \"192.0.2.1:9461\"}\n"));
        assertEquals("config key metrics.listen: \"192.0.2.1:9461\" is not a loopback address; "
                + "the endpoint has no authentication", e.getMessage());
    }

    @Test
    void theHistogramIsCumulative() {
        Metrics m = new Metrics();
        m.resolution(500_000);        // 0.5 ms
        m.resolution(20_000_000);     // 20 ms
        m.resolution(60_000_000_000L); // 60 s
        String t = m.render();
        assertTrue(t.contains("tlspolicyd_resolution_seconds_bucket{le=\"0.001\"} 1\n"), t);
        assertTrue(t.contains("tlspolicyd_resolution_seconds_bucket{le=\"0.025\"} 2\n"), t);
        assertTrue(t.contains("tlspolicyd_resolution_seconds_bucket{le=\"30.0\"} 2\n"), t);
        assertTrue(t.contains("tlspolicyd_resolution_seconds_bucket{le=\"+Inf\"} 3\n"), t);
        assertTrue(t.contains("tlspolicyd_resolution_seconds_count 3\n"), t);
    }

    /** One raw HTTP/1.1 request with {@code host} as its Host header; the status line. */
    private static String rawGet(InetSocketAddress a, String host) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", a.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /status HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\n\r\n").getBytes(
                    java.nio.charset.StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.US_ASCII);
            return all.isEmpty() ? "" : all.substring(0, all.indexOf("\r\n"));
        }
    }

    /**
     * Issue 34, finding 9: a page that a browser on this host loads through a rebound name
     * sends that name as Host, and gets 421; connections beyond the cap are closed at once.
     */
    @Test
    void otherHostNamesAreRefusedAndConnectionsCapped() throws Exception {
        try (PolicyDaemon daemon = PolicyDaemon.start(ConfigLoader.parse(
                "socketmap: {listen: [\"127.0.0.1:0\"]}\n"
                        + "metrics: {listen: \"127.0.0.1:0\", tlsrpt_store: \"\"}\n"
                        + "dane: {dnssec: resolver}\n" + Isolated.CONFIG), Optional.empty())) {
            InetSocketAddress metrics = daemon.metricsAddress().orElseThrow();
            assertEquals("HTTP/1.1 421 Misdirected Request", rawGet(metrics,
                    "rebound.attacker.example:" + metrics.getPort()));
            assertEquals("HTTP/1.1 421 Misdirected Request", rawGet(metrics, "127.0.0.1:1"));
            assertEquals("HTTP/1.1 200 OK", rawGet(metrics, "127.0.0.1:" + metrics.getPort()));
            assertEquals("HTTP/1.1 200 OK", rawGet(metrics, "localhost:" + metrics.getPort()));
            java.util.List<java.net.Socket> held = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < MetricsServer.MAX_CONNECTIONS; i++) {
                    java.net.Socket s = new java.net.Socket("127.0.0.1", metrics.getPort());
                    held.add(s);
                }
                Thread.sleep(300);
                try (java.net.Socket extra = new java.net.Socket("127.0.0.1",
                        metrics.getPort())) {
                    extra.setSoTimeout(10_000);
                    assertEquals(-1, extra.getInputStream().read(), "closed at once");
                }
            } finally {
                for (java.net.Socket s : held) {
                    s.close();
                }
            }
            Thread.sleep(300);
            assertEquals("HTTP/1.1 200 OK", rawGet(metrics, "127.0.0.1:" + metrics.getPort()));
        }
    }
}
