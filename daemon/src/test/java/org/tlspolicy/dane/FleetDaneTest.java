package org.tlspolicy.dane;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.fleet.FleetKey;
import org.tlspolicy.fleet.SharedCache;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.testworld.DaneWorld;
import org.tlspolicy.testworld.RedisServer;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fleet mode's DANE side against the DNSSEC world and a real redis-server: a relay whose DNS
 * is gone answers another relay's DANE result from the shared store, committed to its own
 * store first; and an entry planted to say "no DANE" without the fleet key never turns a
 * domain's dane-only into anything weaker.
 */
@Timeout(60)
class FleetDaneTest {

    @TempDir
    static Path dir;
    static DaneWorld world;
    static DatagramSocket silent;
    static RedisServer redis;
    static Path keyFile;
    final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        world = DaneWorld.start(Files.createDirectories(dir.resolve("world")));
        silent = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        redis = RedisServer.start(dir.resolve("redis"));
        keyFile = dir.resolve("fleet.key");
        Files.writeString(keyFile, "ZmxlZXQga2V5IG9mIHRoZSBEQU5FIHRlc3RzLCAzMisgYnl0ZXM=\n");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r-----"));
    }

    @AfterAll
    static void stop() throws Exception {
        redis.close();
        silent.close();
        world.close();
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeAfter) {
            c.close();
        }
    }

    /** A relay whose DNS is {@code server}; its DaneCache, store and shared-cache client. */
    record Relay(DaneCache cache, PolicyStore store, SharedCache shared) {
    }

    Relay relay(InetSocketAddress server) throws Exception {
        PolicyStore store = PolicyStore.open(Optional.empty());
        SharedCache shared = SharedCache.start(new SharedCache.Settings(redis.uri(),
                Optional.empty(), Optional.empty(), Optional.empty(), FleetKey.read(keyFile),
                Duration.ofMillis(250), Duration.ofSeconds(5)), System::currentTimeMillis);
        DaneResolver resolver = new DaneResolver(new DnsClient(List.of(server),
                Duration.ofMillis(500), 1, Optional.of(Files.readString(world.trustAnchorFile()))));
        DaneCache cache = new DaneCache(resolver, DaneDecision.forPostfix(), store, shared,
                new DaneCache.Settings(1000, 1000 * 4096L, Duration.ofMinutes(1), Duration.ofHours(1),
                        Duration.ofSeconds(30)), System::currentTimeMillis);
        closeAfter.add(0, store);
        closeAfter.add(0, shared);
        closeAfter.add(0, cache);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (shared.upGauge() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, shared.upGauge());
        return new Relay(cache, store, shared);
    }

    InetSocketAddress dead() {
        return new InetSocketAddress("127.0.0.1", silent.getLocalPort());
    }

    static String render(DaneState s) {
        return s.outcome() instanceof PolicyOutcome.Apply a ? a.policy().render()
                : s.outcome().toString();
    }

    @Test
    void aRelayWithoutDnsAnswersAnotherRelaysResult() throws Exception {
        Relay a = relay(world.authority());
        assertEquals("dane-only", render(a.cache().lookup("dane-only.test")
                .get(30, TimeUnit.SECONDS)));
        Relay b = relay(dead());
        DaneState s = b.cache().lookup("dane-only.test").get(30, TimeUnit.SECONDS);
        assertEquals("dane-only", render(s));
        assertEquals(1, b.shared().hits());
        assertTrue(b.store().getDane("dane-only.test").get(10, TimeUnit.SECONDS).isPresent(),
                "committed to b's own store before it answered");
    }

    @Test
    void aPlantedNoDaneNeverWeakensDaneOnly() throws Exception {
        Relay a = relay(world.authority());
        a.cache().lookup("mixed.test").get(30, TimeUnit.SECONDS);
        a.cache().lookup("dane-only.test").get(30, TimeUnit.SECONDS);
        // The attacker copies mixed.test's genuine result (weaker than dane-only) over
        // dane-only.test's: authentic for mixed.test, not for dane-only.test.
        redis.command("SET", "tlspolicy:dane:dane-only.test",
                redis.command("GET", "tlspolicy:dane:mixed.test"));
        Relay b = relay(dead());
        DaneState s = b.cache().lookup("dane-only.test").get(30, TimeUnit.SECONDS);
        assertEquals(1, b.shared().rejected());
        // Without DNS, b cannot know: a failure, which defers the mail; never a downgrade.
        assertInstanceOf(DaneLookup.Failed.class, s.lookup());
    }
}
