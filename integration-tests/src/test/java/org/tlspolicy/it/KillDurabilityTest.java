package org.tlspolicy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A policy tlspolicyd has answered survives kill -9 (issue 21): the packaged daemon, as a
 * process, answers cold lookups of fresh domains from 8 connections at once (a third DANE,
 * answered dane-only; the rest MTA-STS enforce, answered secure after their DANE lookup found
 * no TLSA), and is killed with SIGKILL the moment the k-th OK arrives, k random; then started
 * again on the same store with DNS gone (so nothing can be fetched anew), and every domain
 * answered OK before the kill must get the same answer. Twelve rounds, each with its own
 * domains, each kill at another point.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class KillDurabilityTest {

    private static final int ROUNDS = 12;
    private static final int PER_ROUND = 24;
    private static final int CONNECTIONS = 8;

    @TempDir
    static Path dir;

    static PolicyWorld world;

    @BeforeAll
    static void startWorld() throws Exception {
        world = PolicyWorld.start(dir, "kill.test", ROUNDS * PER_ROUND, "127.0.4.1");
    }

    @AfterAll
    static void stopWorld() throws Exception {
        if (world != null) {
            world.close();
        }
    }

    private static String domain(int i) {
        return world.domain(i);
    }

    private static Path config(String name, int port, String dns) throws IOException {
        return Files.writeString(dir.resolve(name + ".yml"), world.config(port, dns,
                dir.resolve("cache.db"), ""));
    }

    @Test
    void everyPolicyAnsweredBeforeAKillIsAnsweredAfterTheRestart() throws Exception {
        Random random = new Random();
        int port = MailDeliveryScenarios.freePort();
        Path online = config("online", port, world.dns());
        // DNS gone: nothing listens there; the store alone can answer.
        Path offline = config("offline", port, "127.0.0.9:53");
        Map<String, String> lost = new TreeMap<>();
        int answeredBeforeKills = 0;
        for (int round = 0; round < ROUNDS; round++) {
            int killAt = 1 + random.nextInt(PER_ROUND);
            Map<String, String> answered = lookUpAndKill(online, port, round, killAt);
            answeredBeforeKills += answered.size();
            assertTrue(answered.size() >= killAt, "round " + round + ": " + answered);
            try (DaemonProcess restarted = DaemonProcess.serve(offline);
                 SocketmapClient client = new SocketmapClient(port, 30_000)) {
                for (Map.Entry<String, String> e : answered.entrySet()) {
                    String now = client.lookup("postfix", e.getKey());
                    if (!now.equals(e.getValue())) {
                        lost.put(e.getKey(), "before the kill: " + e.getValue() + "; after: "
                                + now + " (round " + round + ", killed at OK #" + killAt + ")");
                    }
                }
                restarted.close();
                restarted.awaitExit(30);
            }
        }
        System.out.println("KillDurabilityTest: " + ROUNDS + " SIGKILLs, " + answeredBeforeKills
                + " answers before them, " + lost.size() + " lost");
        assertEquals(Map.of(), lost, answeredBeforeKills + " answers before " + ROUNDS
                + " kills");
    }

    /**
     * Looks this round's fresh domains up from {@link #CONNECTIONS} connections at once and
     * SIGKILLs the daemon when the {@code killAt}-th OK arrives; returns every OK answer that
     * arrived before it died (Postfix could have acted on each).
     */
    private static Map<String, String> lookUpAndKill(Path config, int port, int round,
                                                     int killAt) throws Exception {
        DaemonProcess daemon = DaemonProcess.serve(config);
        ConcurrentLinkedQueue<String> todo = new ConcurrentLinkedQueue<>();
        for (int i = round * PER_ROUND; i < (round + 1) * PER_ROUND; i++) {
            todo.add(domain(i));
        }
        Map<String, String> answered = new ConcurrentHashMap<>();
        AtomicInteger oks = new AtomicInteger();
        AtomicBoolean killed = new AtomicBoolean();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CONNECTIONS; c++) {
            Thread t = new Thread(() -> {
                try (SocketmapClient client = new SocketmapClient(port, 30_000)) {
                    for (String d; (d = todo.poll()) != null; ) {
                        String reply = client.lookup("postfix", d);
                        if (!reply.startsWith("OK ")) {
                            throw new AssertionError(d + ": " + reply);
                        }
                        answered.put(d, reply);
                        if (oks.incrementAndGet() == killAt && killed.compareAndSet(false, true)) {
                            daemon.kill();
                        }
                    }
                } catch (IOException afterTheKill) {
                    // the daemon died under this connection: expected once killed
                }
            });
            t.start();
            clients.add(t);
        }
        for (Thread t : clients) {
            t.join(TimeUnit.SECONDS.toMillis(120));
        }
        assertTrue(killed.get(), "round " + round + " ended before OK #" + killAt);
        assertEquals(137, daemon.awaitExit(30), "killed by SIGKILL");
        return answered;
    }
}
