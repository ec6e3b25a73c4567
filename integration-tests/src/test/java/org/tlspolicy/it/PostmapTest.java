package org.tlspolicy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged daemon, started as a process on a YAML file, queried by Postfix's own postmap
 * over TCP and over a unix socket, reloaded with SIGHUP and stopped with SIGTERM.
 */
@Timeout(180)
class PostmapTest {

    @TempDir
    Path dir;

    private Path config(String mapName, Path socket) throws Exception {
        Path file = dir.resolve("tlspolicyd.yml");
        Files.writeString(file, """
                socketmap:
                  map_name: %s
                  listen: ["127.0.0.1:0"]
                  unix_socket: {path: "%s", mode: "0660"}
                # Inside the test world: DNS to a closed loopback port, cache in the test dir.
                dns: {servers: ["127.0.0.1:9"], timeout: 200ms, attempts: 1}
                cache: {path: "%s"}
                control: {socket: ""}
                """.formatted(mapName, socket, dir.resolve("cache.db")));
        return file;
    }

    @Test
    void postmapGetsAnswersOverTcpAndUnixSocket() throws Exception {
        Path socket = dir.resolve("tlspolicy.sock");
        Postmap postmap = new Postmap(dir.resolve("postfix"));
        try (DaemonProcess daemon = DaemonProcess.serve(config("postfix", socket))) {
            assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(socket)));
            for (String table : new String[] {
                "socketmap:inet:127.0.0.1:" + daemon.port() + ":postfix",
                "socketmap:unix:" + socket + ":postfix"}) {
                // NOTFOUND: postmap exits 1 with no output and, unlike on errors, no warning.
                for (String key : new String[] {"[mx.example.com]:25", "192.0.2.1",
                    ".example.com"}) {
                    Postmap.Result r = postmap.query(key, table);
                    assertEquals(new Postmap.Result(1, "", ""), r, key + " via " + table);
                }
                // Domains need DNS, which is unreachable here: whether DANE applies cannot be
                // known, so TEMP (Postfix defers the mail), never NOTFOUND.
                for (String key : new String[] {"Example.COM", "bücher.example"}) {
                    Postmap.Result r = postmap.query(key, table);
                    assertTrue(r.err().contains("socketmap server temporary error: DNS lookup "
                            + "failed: MX lookup failed"), key + " via " + table + ": " + r);
                }
                Postmap.Result unknown = postmap.query("example.com",
                        table.replace(":postfix", ":nomap"));
                assertEquals(1, unknown.exitCode()); // postmap exits 1 on fatal errors too
                assertTrue(unknown.err().contains(
                        "socketmap server permanent error: unknown map name 'nomap'"),
                        unknown.err());
            }
            String decision = daemon.awaitLine("decision key=Example.COM", 10);
            assertTrue(decision.startsWith("INFO decision key=Example.COM domain=example.com "
                    + "reply=TEMP "), decision);
            daemon.awaitLine("decision key=\"bücher.example\" domain=xn--bcher-kva.example", 10);
            // With no DNS at all, the start-up check of in-process DNSSEC validation says so.
            String check = daemon.awaitLine("dane dnssec=validate check=failed", 10);
            assertTrue(check.startsWith("ERROR dane dnssec=validate check=failed zone=. SOA is "
                    + "indeterminate"), check);
        }
    }

    @Test
    void sighupReloadsTheConfigurationWithoutRestarting() throws Exception {
        Path socket = dir.resolve("s.sock");
        Postmap postmap = new Postmap(dir.resolve("postfix"));
        try (DaemonProcess daemon = DaemonProcess.serve(config("postfix", socket))) {
            String tcp = "socketmap:inet:127.0.0.1:" + daemon.port() + ":";
            assertEquals(1, postmap.query("example.com", tcp + "postfix").exitCode());
            config("tls", socket);
            daemon.signal("HUP");
            daemon.awaitLine("reloaded config=", 10);
            assertEquals(new Postmap.Result(1, "", ""), postmap.query("[example.com]",
                    tcp + "tls"));
            assertTrue(postmap.query("example.com", tcp + "postfix").err()
                    .contains("unknown map name 'postfix'"));
            assertTrue(daemon.isAlive());
        }
    }

    /**
     * Issue 32, §1: a daemon started with SIGHUP ignored (under nohup) cannot be reloaded by a
     * signal, and says so at start instead of ignoring reloads without a word.
     */
    @Test
    void aDaemonStartedWithSighupIgnoredSaysSo() throws Exception {
        Process p = new ProcessBuilder("perl", "-e", "$SIG{HUP} = 'IGNORE'; exec { $ARGV[0] } "
                + "@ARGV or die", DaemonProcess.java(), "-jar", DaemonProcess.jar().toString(),
                "serve", "--config", config("postfix", dir.resolve("n.sock")).toString())
                .redirectErrorStream(true).start();
        try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
                p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            java.util.List<String> lines = new java.util.ArrayList<>();
            for (String line; (line = r.readLine()) != null; ) {
                lines.add(line);
                if (line.contains("INFO started ")) {
                    break;
                }
            }
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("WARN SIGHUP is ignored in "
                    + "this process")), String.join("\n", lines));
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    @Test
    void sigtermStopsGracefullyAndRemovesTheSocket() throws Exception {
        Path socket = dir.resolve("t.sock");
        try (DaemonProcess daemon = DaemonProcess.serve(config("postfix", socket))) {
            assertTrue(Files.exists(socket));
            daemon.signal("TERM");
            // 143 = 128 + SIGTERM: the JVM's exit status after a signal-initiated shutdown;
            // the systemd unit lists it in SuccessExitStatus.
            assertEquals(143, daemon.awaitExit(30));
            daemon.awaitLine("INFO stopped", 5);
            assertFalse(Files.exists(socket));
        }
    }

    @Test
    void anInvalidConfigurationIsRefusedAtStartNamingTheKey() throws Exception {
        Path file = dir.resolve("bad.yml");
        Files.writeString(file, "socketmap:\n  listen: [\"192.0.2.7:8461\"]\n");
        DaemonProcess.Result r = DaemonProcess.run("serve", "--config", file.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("tlspolicyd: config key socketmap.listen: "
                + "\"192.0.2.7:8461\" is not a loopback address"), r.err());
    }

    @Test
    void queryExplainsFromTheCommandLine() throws Exception {
        Path config = config("postfix", dir.resolve("q.sock"));
        DaemonProcess.Result r = DaemonProcess.run("query", "--config", config.toString(),
                "--json", "Example.COM.");
        // DNS is unreachable in this world: DANE cannot be decided, the mail would wait (exit 3).
        assertEquals(3, r.exitCode(), r.err());
        // The configuration read comes first, then the key as given and the domain it names.
        assertTrue(r.out().startsWith("{\"config\":\"" + config + "\",\"key\":\"Example.COM.\","
                + "\"domain\":\"example.com\","), r.out());
        assertTrue(r.out().contains("\"mx\":\"indeterminate\""), r.out());
        assertTrue(r.out().contains("\"dane\":\"indeterminate: MX lookup failed: "), r.out());
        assertTrue(r.out().contains("\"status\":\"TEMP\",\"reply\":\"TEMP DNS lookup failed: "),
                r.out());
    }
}
