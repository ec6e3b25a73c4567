package org.tlspolicy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.RedisServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fleet mode with the packaged daemon: three tlspolicyd processes, each with its own cache
 * file, share one real redis-server. They are asked for the same fresh domains at once (a
 * third DANE, the rest MTA-STS): each MTA-STS policy is fetched once for the three (the policy
 * host counts), and all three give every domain the same OK. A fourth relay started after the
 * policy host is gone answers every domain from the shared cache.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FleetTest {

    private static final int DOMAINS = 60;

    @TempDir
    static Path dir;
    static PolicyWorld world;
    static RedisServer redis;
    static Path key;

    @BeforeAll
    static void start() throws Exception {
        world = PolicyWorld.start(dir, "fleet.test", DOMAINS, "127.0.4.7");
        redis = RedisServer.start(dir.resolve("redis"));
        key = dir.resolve("fleet.key");
        Files.writeString(key, "dGhlIGZsZWV0IGtleSBvZiB0aGUgaW50ZWdyYXRpb24gdGVzdA==\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (redis != null) {
            redis.close();
        }
        if (world != null) {
            world.close();
        }
    }

    /** Relay {@code name}'s configuration: its own port and cache file, the shared server. */
    private static Path config(String name, int port) throws Exception {
        Path cache = dir.resolve(name + ".db");
        String yaml = world.config(port, world.dns(), cache, "").replace(
                "cache: {path: \"" + cache + "\"}",
                "cache: {path: \"" + cache + "\", shared: {type: redis, uri: \"" + redis.uri()
                        + "\", key_file: \"" + key + "\"}}");
        assertTrue(yaml.contains("shared:"), yaml);
        return Files.writeString(dir.resolve(name + ".yml"), yaml);
    }

    @Test
    void threeRelaysFetchEachPolicyOnceAndAFourthAnswersWithoutThePolicyHost()
            throws Exception {
        int[] ports = {MailDeliveryScenarios.freePort(), MailDeliveryScenarios.freePort(),
            MailDeliveryScenarios.freePort()};
        List<DaemonProcess> relays = new ArrayList<>();
        Map<String, String> first = new ConcurrentHashMap<>();
        Map<String, String> differing = new TreeMap<>();
        try {
            for (int r = 0; r < 3; r++) {
                relays.add(DaemonProcess.serve(config("relay" + r, ports[r])));
            }
            List<Thread> threads = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                int port = ports[r];
                Thread t = new Thread(() -> {
                    try (SocketmapClient client = new SocketmapClient(port, 30_000)) {
                        for (int i = 0; i < DOMAINS; i++) {
                            String d = world.domain(i);
                            String reply = client.lookup("postfix", d);
                            String other = first.putIfAbsent(d, reply);
                            if (other != null && !other.equals(reply)) {
                                synchronized (differing) {
                                    differing.put(d, other + " / " + reply);
                                }
                            }
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(120));
            }
        } finally {
            relays.forEach(DaemonProcess::close);
        }
        assertEquals(Map.of(), differing);
        int sts = 0;
        for (int i = 0; i < DOMAINS; i++) {
            String reply = first.get(world.domain(i));
            assertTrue(reply != null && reply.startsWith("OK "), world.domain(i) + ": " + reply);
            if (i % 3 != 0) {
                sts++;
                assertTrue(reply.startsWith("OK secure match="), reply);
            } else {
                assertEquals("OK dane-only", reply);
            }
        }
        assertEquals(sts, world.policyHost().requests(),
                "policy host fetches for " + sts + " MTA-STS domains on three relays");

        world.policyHost().respondWith(PolicyHost.reset()); // the policy host is gone
        int port = MailDeliveryScenarios.freePort();
        try (DaemonProcess fourth = DaemonProcess.serve(config("relay3", port));
             SocketmapClient client = new SocketmapClient(port, 30_000)) {
            for (int i = 0; i < DOMAINS; i++) {
                assertEquals(first.get(world.domain(i)), client.lookup("postfix",
                        world.domain(i)), world.domain(i));
            }
        }
        assertEquals(sts, world.policyHost().requests());
        System.out.println("FleetTest: " + DOMAINS + " domains (" + sts + " MTA-STS) on three "
                + "relays: " + world.policyHost().requests() + " policy fetches");
    }
}
