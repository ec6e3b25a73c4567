package org.tlspolicy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon, as a process, whose cache file sits on a filesystem remounted read-only (as ext4
 * does after an error, here a read-only bind mount) with DNS gone: it answers every stored
 * enforce domain from the file (no downgrade to NOTFOUND), keeps the file where it is, says so
 * once at ERROR, in /health (503) and /metrics; once the filesystem is writable again it heals
 * by itself.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StoreFaultsTest {

    @TempDir
    static Path dir;

    static PolicyWorld world;

    @BeforeAll
    static void startWorld() throws Exception {
        world = PolicyWorld.start(dir, "store.test", 9, "127.0.4.2");
    }

    @AfterAll
    static void stopWorld() throws Exception {
        if (world != null) {
            world.close();
        }
    }

    private static void sh(String command) throws Exception {
        Process p = new ProcessBuilder("sh", "-ec", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new AssertionError(command + ": " + out);
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aReadOnlyCacheFileIsServedNeverMovedAsideAndHealsWhenWritable() throws Exception {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path ro = Files.createDirectories(dir.resolve("ro"));
        int port = MailDeliveryScenarios.freePort();
        java.util.Map<String, String> answers = new java.util.TreeMap<>();
        Path online = Files.writeString(dir.resolve("online.yml"), world.config(port, world.dns(),
                real.resolve("cache.db"), ""));
        try (DaemonProcess d = DaemonProcess.serve(online);
             SocketmapClient c = new SocketmapClient(port, 30_000)) {
            for (int i = 0; i < 9; i++) {
                String reply = c.lookup("postfix", world.domain(i));
                assertTrue(reply.startsWith("OK "), reply);
                answers.put(world.domain(i), reply);
            }
            d.kill(); // a crash: the -wal holds the newest
        }
        sh("mount --bind " + real + " " + ro + " && mount -o remount,ro,bind " + ro);
        int metricsPort = MailDeliveryScenarios.freePort();
        try {
            Path offline = Files.writeString(dir.resolve("offline.yml"), world.config(port,
                    "127.0.0.9:53", ro.resolve("cache.db"),
                    "metrics: {listen: \"127.0.0.1:" + metricsPort + "\", tlsrpt_store: \"\"}\n"));
            try (DaemonProcess d = DaemonProcess.serve(offline);
                 SocketmapClient c = new SocketmapClient(port, 30_000)) {
                for (var e : answers.entrySet()) {
                    assertEquals(e.getValue(), c.lookup("postfix", e.getKey()), e.getKey());
                }
                HttpResponse<String> health = get(metricsPort, "/health");
                assertEquals(503, health.statusCode(), health.body());
                assertTrue(health.body().startsWith("unhealthy\n"), health.body());
                assertTrue(health.body().contains("\nproblem: store " + ro
                        .resolve("cache.db") + " not writable: "), health.body());
                assertTrue(get(metricsPort, "/metrics").body()
                        .contains("\ntlspolicyd_store_writable 0\n"));
                List<String> errors = d.output().stream()
                        .filter(l -> l.startsWith("ERROR store path=")).toList();
                assertEquals(1, errors.size(), String.join("\n", d.output()));
                assertTrue(errors.get(0).contains("cannot be written"), errors.get(0));
                try (var files = Files.list(real)) {
                    assertTrue(files.noneMatch(f -> f.toString().contains("corrupt")),
                            "a readable file is never moved aside");
                }
                sh("mount -o remount,rw,bind " + ro);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (get(metricsPort, "/health").body().contains("problem: store")
                        && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                // DNS stays gone, which /health rightly still reports: DANE would defer.
                String after = get(metricsPort, "/health").body();
                assertTrue(after.startsWith("unhealthy\nproblem: DNSSEC validation fails ("),
                        after);
                assertTrue(!after.contains("problem: store"), after);
                assertTrue(get(metricsPort, "/metrics").body()
                        .contains("\ntlspolicyd_store_writable 1\n"));
                d.awaitLine("writable again", 5);
            }
        } finally {
            sh("umount " + ro + " || umount -l " + ro);
        }
    }
}
