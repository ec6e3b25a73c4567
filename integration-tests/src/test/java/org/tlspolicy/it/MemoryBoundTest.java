package org.tlspolicy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 34, finding 7: domains serving large valid policies cannot exhaust the daemon's heap.
 * {@value #DOMAINS} domains, each with a policy of about 64 KiB (the most RFC 8461 practice
 * allows; 570 MB in all), are looked up through the daemon running with the shipped unit's JVM
 * options (its -Xmx512m, -XX:+ExitOnOutOfMemoryError). Before the memory tier was bounded in
 * bytes about 7,800 such domains killed it. Now it evicts: the daemon stays up, its memory tier
 * stays within its budget, and a domain in use all along is answered from memory (no new
 * resolution) with its policy.
 *
 * <p>The world: knotd answers every {@code _mta-sts.*.big.test} TXT and {@code mta-sts.*.big.test}
 * address by wildcard; one policy host on 127.0.6.1:443 presents a certificate for whatever
 * name it is asked (SNI) from the test CA. Memory-only cache (no file): the worst case for the
 * heap.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class MemoryBoundTest {

    static final int DOMAINS = 9_000;
    private static final int CLIENTS = 12;
    private static final String HOT = "hot.big.test";

    @TempDir
    Path dir;

    /** A valid enforce policy of about 64 KiB: its size is an extension field's. */
    static String largePolicy() {
        StringBuilder b = new StringBuilder("version: STSv1\nmode: enforce\nmx: *.big.test\n"
                + "max_age: 86400\n");
        while (b.length() < 64 * 1024 - 1200) {
            b.append("x-padding: ").append("p".repeat(990)).append('\n');
        }
        return b.toString();
    }

    private static long metric(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\d+)$").matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static long resolutions(String metrics) {
        long sum = 0;
        Matcher m = Pattern.compile("(?m)^tlspolicyd_mta_sts_resolutions_total\\{[^}]*} (\\d+)$")
                .matcher(metrics);
        while (m.find()) {
            sum += Long.parseLong(m.group(1));
        }
        return sum;
    }

    @Test
    void manyLargePoliciesUnderTheUnitsHeapAreEvictedNotFatal() throws Exception {
        String policy = largePolicy();
        assertTrue(policy.length() > 64_000 && policy.length() < 64 * 1024, "" + policy.length());
        TestCa ca = TestCa.create("memory test CA");
        try (KnotServer knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                Map.of("big.test.", """
                        $ORIGIN big.test.
                        $TTL 3600
                        @ SOA ns.big.test. hostmaster.big.test. 1 3600 900 604800 3600
                        @ NS ns.big.test.
                        ns A 127.0.0.1
                        * TXT "v=STSv1; id=1;"
                        * A 127.0.6.1
                        """));
             PolicyHost host = PolicyHost.start(ca.anyNameServerContext(),
                     PolicyHost.ok(policy), new InetSocketAddress("127.0.6.1", 443))) {
            int port = MailDeliveryScenarios.freePort();
            int metricsPort = MailDeliveryScenarios.freePort();
            Path config = Files.writeString(dir.resolve("tlspolicyd.yml"), """
                    socketmap: {listen: ["127.0.0.1:%d"]}
                    dns: {servers: ["127.0.0.1:%d"], timeout: 2s, attempts: 2}
                    mta_sts: {allow_private_addresses: true, extra_ca_file: "%s"}
                    dane: {enabled: false}
                    cache: {path: "", resolution_rate: 100000}
                    metrics: {listen: "127.0.0.1:%d", tlsrpt_store: ""}
                    control: {socket: "%s"}
                    tlsrpt: "off"
                    """.formatted(port, knot.address().getPort(),
                    ca.writePem(dir.resolve("ca.pem")), metricsPort,
                    dir.resolve("control.sock")));
            List<String> jvm = DaemonProcess.unitJavaOptions();
            assertTrue(jvm.contains("-Xmx512m") && jvm.contains("-XX:+ExitOnOutOfMemoryError"),
                    jvm.toString());
            HttpClient http = HttpClient.newHttpClient();
            URI metricsUri = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
            try (DaemonProcess d = DaemonProcess.serveIn(jvm, config)) {
                String expected = "OK secure match=.big.test servername=hostname";
                ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
                List<Future<Integer>> done = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int first = c;
                    done.add(clients.submit(() -> {
                        int ok = 0;
                        try (SocketmapClient s = new SocketmapClient(port, 60_000)) {
                            for (int i = first; i < DOMAINS; i += CLIENTS) {
                                ok += s.lookup("postfix", "d" + i + ".big.test").equals(expected)
                                        ? 1 : 0;
                                if (i % 50 == first) {
                                    assertEquals(expected, s.lookup("postfix", HOT));
                                }
                            }
                        }
                        return ok;
                    }));
                }
                int answered = 0;
                for (Future<Integer> f : done) {
                    answered += f.get(540, TimeUnit.SECONDS);
                }
                clients.shutdown();
                assertTrue(d.isAlive(), "the daemon died: " + tail(d.output()));
                assertEquals(DOMAINS, answered, tail(d.output()));
                String metrics = http.send(HttpRequest.newBuilder(metricsUri).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                long bytes = metric(metrics, "tlspolicyd_cache_memory_bytes{cache=\"mta-sts\"}");
                long entries = metric(metrics, "tlspolicyd_cache_entries{cache=\"mta-sts\"}");
                // 3/4 of the default cache.max_memory_mib (192): 144 MiB.
                assertTrue(bytes > 0 && bytes <= 144L * 1024 * 1024, bytes + " bytes");
                assertTrue(entries < DOMAINS, entries + " entries: nothing was evicted?");
                // The domain in use all along is still in memory: no resolution for it.
                long before = resolutions(metrics);
                try (SocketmapClient s = new SocketmapClient(port, 30_000)) {
                    assertEquals(expected, s.lookup("postfix", HOT));
                }
                String after = http.send(HttpRequest.newBuilder(metricsUri).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertEquals(before, resolutions(after), "the hot domain was resolved again");
                assertTrue(d.isAlive());
            }
        }
    }

    private static String tail(List<String> lines) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }
}
