package org.tlspolicy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Local clients that mean harm, against the daemon as a process with a file descriptor limit
 * of 1400 (prlimit) and a resolver that never answers (so every lookup holds its sockets as
 * long as it can): six connections pipelining 3000 new domains each must not exhaust the
 * descriptors (the outbound socket budget holds, and each connection has at most
 * max_pipelined lookups under way), while Postfix's own lookups are still answered; a flood
 * of malformed requests is logged a line a minute, with a count, not a line each.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HostileClientsTest {

    private static final int FD_LIMIT = 1400;

    @TempDir
    static Path dir;

    static DatagramSocket blackhole;

    @BeforeAll
    static void start() throws Exception {
        // A resolver that reads every question and answers none.
        blackhole = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    }

    @AfterAll
    static void stop() {
        blackhole.close();
    }

    private static long openFds(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.count();
        }
    }

    @Test
    void pipelinedFloodsStayWithinTheDescriptorsAndPostfixIsServed() throws Exception {
        int port = MailDeliveryScenarios.freePort();
        Path config = Files.writeString(dir.resolve("flood.yml"), """
                socketmap: {listen: ["127.0.0.1:%d"]}
                dns: {servers: ["127.0.0.1:%d"], timeout: 3s, attempts: 2}
                cache: {path: "%s"}
                control: {socket: ""}
                tlsrpt: "off"
                """.formatted(port, blackhole.getLocalPort(), dir.resolve("flood.db")));
        try (DaemonProcess d = DaemonProcess.serve(config,
                List.of("prlimit", "--nofile=" + FD_LIMIT + ":" + FD_LIMIT))) {
            String budget = d.awaitLine("sockets fd_limit=", 5);
            assertTrue(budget.contains("fd_limit=" + FD_LIMIT), budget);
            java.util.regex.Matcher sizes = java.util.regex.Pattern.compile(
                    "outbound_dns=(\\d+) outbound_https=(\\d+)").matcher(budget);
            assertTrue(sizes.find(), budget);
            long outbound = Long.parseLong(sizes.group(1)) + Long.parseLong(sizes.group(2));
            long before = openFds(d.pid());
            List<Socket> attackers = new ArrayList<>();
            for (int c = 0; c < 6; c++) {
                Socket s = new Socket("127.0.0.1", port);
                StringBuilder burst = new StringBuilder();
                for (int i = 0; i < 3000; i++) {
                    String request = "postfix flood-" + c + "-" + i + ".example";
                    burst.append(request.length()).append(':').append(request).append(',');
                }
                OutputStream out = s.getOutputStream();
                Thread writer = new Thread(() -> {
                    try {
                        out.write(burst.toString().getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException closed) {
                        // the test is over
                    }
                });
                writer.setDaemon(true);
                writer.start();
                attackers.add(s);
            }
            long peak = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            try (SocketmapClient postfix = new SocketmapClient(port, 10_000)) {
                while (System.nanoTime() < deadline) {
                    peak = Math.max(peak, openFds(d.pid()));
                    // Postfix's lookups of keys that need no network are answered meanwhile.
                    assertEquals("NOTFOUND ", postfix.lookup("postfix", "[mx.example.com]:25"));
                    Thread.sleep(50);
                }
            }
            for (Socket s : attackers) {
                s.close();
            }
            System.out.println("HostileClientsTest: peak open descriptors " + peak + " of "
                    + FD_LIMIT + ", " + before + " before the flood; " + budget);
            // The budget holds at every instant, timeouts included (issue 32 §5: a silent
            // resolver's timed-out sockets stayed open while their permits opened new ones,
            // 287 descriptors for a DNS budget of 150): what was open before, the outbound
            // budget, the 7 connections, and a few for the JVM's own use.
            long bound = before + outbound + 7 + 8;
            assertTrue(peak <= bound, "peak " + peak + " over " + bound);
            assertTrue(d.isAlive());
            assertFalse(d.output().stream().anyMatch(l -> l.contains("Too many open files")),
                    String.join("\n", d.output()));
        }
    }

    @Test
    void aFloodOfMalformedRequestsIsLoggedAsOneLineWithACount() throws Exception {
        int port = MailDeliveryScenarios.freePort();
        Path config = Files.writeString(dir.resolve("malformed.yml"), """
                socketmap: {listen: ["127.0.0.1:%d"]}
                cache: {path: ""}
                control: {socket: ""}
                mta_sts: {enabled: false}
                dane: {enabled: false}
                """.formatted(port));
        try (DaemonProcess d = DaemonProcess.serve(config)) {
            for (int i = 0; i < 500; i++) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.getOutputStream().write("garbage,".getBytes(StandardCharsets.US_ASCII));
                    s.getInputStream().readAllBytes(); // PERM, then closed
                }
            }
            Thread.sleep(200);
            long lines = d.output().stream().filter(l -> l.contains("malformed request"))
                    .count();
            assertEquals(1, lines, String.join("\n", d.output()));
        }
    }
}
