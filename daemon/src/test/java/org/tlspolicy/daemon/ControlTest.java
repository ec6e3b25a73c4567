package org.tlspolicy.daemon;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.control.ControlClient;
import org.tlspolicy.control.ControlReply;
import org.tlspolicy.socketmap.TestClient;
import org.tlspolicy.testworld.DaneWorld;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control socket and overrides on a running daemon against {@link DaneWorld}'s real knotd
 * and unbound: list, show, purge and refresh change what the daemon holds and answers, each
 * action is logged with the uid the kernel reports; the socket's file mode keeps other users
 * out (checked with a process running as another user); overrides answer in place of DANE
 * until they expire, and change on reload.
 */
@Timeout(120)
class ControlTest {

    @TempDir
    static Path dir;

    static final long UID = new com.sun.security.auth.module.UnixSystem().getUid();

    static DaneWorld world;
    /** World-traversable, so that another user reaches the socket's own permissions. */
    static Path open;

    @BeforeAll
    static void start() throws Exception {
        world = DaneWorld.start(dir);
        open = Files.createTempDirectory("tlspolicyd-control",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }

    @AfterAll
    static void stop() throws Exception {
        world.close();
        try (var files = Files.list(open)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(open);
    }

    static String config(Path socket, String overrides) {
        return """
                socketmap: {listen: ["127.0.0.1:0"]}
                control: {socket: "%s"}
                dns: {servers: ["127.0.0.1:%d"], timeout: 1s, attempts: 1}
                dane: {dnssec: validate, trust_anchor_file: "%s"}
                mta_sts: {enabled: false}
                cache: {path: "%s"}
                tlsrpt: "off"
                """.formatted(socket, world.iteratingResolver().getPort(),
                world.trustAnchorFile(), socket + ".db") + overrides;
    }

    static List<String> lines(Path socket, String request) throws Exception {
        ControlReply r = ControlClient.ask(socket, request, Duration.ofSeconds(30));
        assertTrue(r.ok(), request + ": " + r.error());
        return r.lines();
    }

    @Test
    void listShowPurgeAndRefreshActOnTheRunningDaemon() throws Exception {
        Path socket = open.resolve("control.sock");
        Path file = Files.writeString(dir.resolve("control.yml"), config(socket, ""));
        List<LogRecord> logged = new CopyOnWriteArrayList<>();
        Logger actions = Logger.getLogger(CacheControl.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        actions.addHandler(capture);
        try (PolicyDaemon d = PolicyDaemon.start(ConfigLoader.load(file), Optional.of(file));
             TestClient c = new TestClient(d.boundAddresses().get(0))) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(socket)));
            assertEquals(List.of("nothing cached"), lines(socket, "list"));
            assertEquals("OK dane-only", c.lookup("postfix", "dane-only.test"));
            assertTrue(c.lookup("postfix", "insecure.test").startsWith("NOTFOUND"));

            List<String> list = lines(socket, "list");
            assertEquals(2, list.size(), list.toString());
            assertTrue(list.get(0).startsWith("dane-only.test dane applies reply=\"OK "
                    + "dane-only\" until=20"), list.toString());
            assertTrue(list.get(1).startsWith("insecure.test dane not-applicable reason=\""),
                    list.toString());

            List<String> show = lines(socket, "show dane-only.test");
            assertEquals("dane-only.test reply=\"OK dane-only\"", show.get(0));
            assertEquals(list.get(0), show.get(1));

            // The CLI, through the same socket.
            org.tlspolicy.cli.CliAccess.Result cli = org.tlspolicy.cli.CliAccess.run("cache",
                    "purge", "dane-only.test", "--reason", "receiver fixed its TLSA",
                    "--control", socket.toString());
            assertEquals(0, cli.code(), cli.err());
            assertEquals("dane-only.test purged (stored: dane result); the next lookup "
                    + "resolves afresh\n", cli.out());
            assertFalse(String.join("\n", lines(socket, "list")).contains("dane-only.test"));
            LogRecord purge = logged.stream().filter(r -> r.getMessage().startsWith(
                    "control action=purge")).findFirst().orElseThrow();
            assertEquals("control action=purge domain=dane-only.test uid=" + UID + " reason=\""
                    + "receiver fixed its TLSA\" stored=\"dane result\"", purge.getMessage());

            List<String> refreshed = lines(socket, "refresh dane-only.test the ticket says so");
            assertEquals("dane-only.test reply=\"OK dane-only\"", refreshed.get(0));
            assertTrue(refreshed.get(1).startsWith("dane-only.test dane applies"), refreshed
                    .toString());
            assertTrue(logged.stream().anyMatch(r -> r.getMessage().equals("control "
                    + "action=refresh domain=dane-only.test uid=" + UID + " reason=\"the "
                    + "ticket says so\"")), logged.toString());

            ControlReply bad = ControlClient.ask(socket, "purge dane-only.test",
                    Duration.ofSeconds(5));
            assertEquals("purge needs a reason (it is logged)", bad.error());
            assertEquals("unknown request 'drop': list, show, purge, refresh",
                    ControlClient.ask(socket, "drop everything", Duration.ofSeconds(5))
                            .error());
            assertEquals("'[10.0.0.1]' is not a domain (relays and address literals are "
                    + "never cached)", ControlClient.ask(socket, "show [10.0.0.1]",
                    Duration.ofSeconds(5)).error());
        } finally {
            actions.removeHandler(capture);
        }
        assertFalse(Files.exists(socket), "removed at stop");
    }

    @Test
    void theSocketsModeKeepsOtherUsersOutAndLetsTheGroupIn() throws Exception {
        Path socket = open.resolve("perm.sock");
        Path file = Files.writeString(dir.resolve("perm.yml"), config(socket, ""));
        try (PolicyDaemon d = PolicyDaemon.start(ConfigLoader.load(file), Optional.of(file))) {
            String connect = "import socket; s = socket.socket(socket.AF_UNIX); "
                    + "s.connect('" + socket + "'); s.sendall(b'list\\n'); "
                    + "print(s.recv(100).decode().splitlines()[0])";
            // Another user, in no group of the socket's: refused by the file mode.
            Process other = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups", "/usr/bin/python3", "-c", connect).redirectErrorStream(true).start();
            String out = new String(other.getInputStream().readAllBytes());
            assertEquals(1, other.waitFor(), out);
            assertTrue(out.contains("PermissionError"), out);
            // Another user in the socket's group (root's, as the test runs as root): let in.
            Process member = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=0",
                    "--clear-groups", "/usr/bin/python3", "-c", connect).redirectErrorStream(true).start();
            out = new String(member.getInputStream().readAllBytes());
            assertEquals(0, member.waitFor(), out);
            assertEquals("ok", out.strip());
        }
    }

    @Test
    void overridesAnswerInPlaceOfDaneUntilTheyExpireAndChangeOnReload() throws Exception {
        Path socket = open.resolve("overrides.sock");
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        String overrides = """
                overrides:
                  - domain: Dane-Only.TEST.
                    policy: none
                    reason: "TLSA records stale, ticket 17"
                    expires: %s
                  - domain: mixed.test
                    policy: encrypt
                    reason: "testing"
                  - domain: insecure.test
                    policy: "secure match=mx.insecure.test"
                    reason: "gone"
                    expires: %s
                """.formatted(today, today.minusDays(1));
        Path file = Files.writeString(dir.resolve("overrides.yml"), config(socket, overrides)
                + "metrics: {listen: \"127.0.0.1:0\"}\n");
        List<LogRecord> decisions = new CopyOnWriteArrayList<>();
        Logger decisionLog = Logger.getLogger("org.tlspolicy.decision");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                decisions.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        decisionLog.addHandler(capture);
        try (PolicyDaemon d = PolicyDaemon.start(ConfigLoader.load(file), Optional.of(file));
             TestClient c = new TestClient(d.boundAddresses().get(0))) {
            assertEquals("NOTFOUND ", c.lookup("postfix", "dane-only.test"));
            assertEquals("NOTFOUND ", c.lookup("postfix", "dane-only.test"), "from memory");
            assertEquals("OK encrypt", c.lookup("postfix", "mixed.test"));
            // One decision line each, saying where the answer came from and why.
            assertTrue(decisions.stream().anyMatch(r -> r.getMessage().startsWith(
                    "decision key=dane-only.test domain=dane-only.test reply=NOTFOUND "
                            + "reason=\"override: TLSA records stale, ticket 17 (until ")),
                    decisions.toString());
            assertTrue(decisions.stream().anyMatch(r -> r.getMessage().startsWith(
                    "decision key=mixed.test domain=mixed.test reply=OK source=override "
                            + "policy=\"encrypt\" reason=\"override: testing\"")),
                    decisions.toString());
            java.net.InetSocketAddress m = d.metricsAddress().orElseThrow();
            String metrics = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                            + m.getPort() + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("\ntlspolicyd_override_answers_total 3\n"), metrics);
            // Expired yesterday: DANE decides again.
            assertTrue(c.lookup("postfix", "insecure.test").startsWith("NOTFOUND"));
            List<String> list = lines(socket, "list");
            assertTrue(list.contains("dane-only.test override policy=\"none\" reason=\"TLSA "
                    + "records stale, ticket 17\" expires=" + today), list.toString());
            assertTrue(list.contains("insecure.test override policy=\"secure "
                    + "match=mx.insecure.test\" reason=\"gone\" expires=" + today.minusDays(1)
                    + " EXPIRED"), list.toString());

            Files.writeString(file, config(socket, ""));
            d.reload();
            assertEquals("OK dane-only", c.lookup("postfix", "dane-only.test"));
            assertTrue(c.lookup("postfix", "mixed.test").startsWith("OK dane"));
        } finally {
            decisionLog.removeHandler(capture);
        }
    }
}
