package org.tlspolicy.dane;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.testworld.DaneWorld;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DaneCache against the DNSSEC world (knotd's own answers, validated in-process): DNS
 * TTLs within the configured bounds, the store across a restart, refresh before expiry, and
 * failures neither persisted nor kept beyond failure_ttl. The clock is the test's.
 */
@Timeout(60)
class DaneCacheTest {

    @TempDir
    static Path dir;

    static DaneWorld world;
    static DatagramSocket silent;

    final AtomicLong clock = new AtomicLong(1_000_000_000L);

    @BeforeAll
    static void start() throws Exception {
        world = DaneWorld.start(dir);
        silent = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    }

    @AfterAll
    static void stop() throws Exception {
        silent.close();
        world.close();
    }

    static DaneResolver resolver(InetSocketAddress server) throws Exception {
        return new DaneResolver(new DnsClient(List.of(server), Duration.ofMillis(500), 1,
                Optional.of(Files.readString(world.trustAnchorFile()))));
    }

    static DaneResolver working() throws Exception {
        return resolver(world.authority()); // exact TTLs
    }

    static DaneResolver dead() throws Exception {
        return resolver(new InetSocketAddress("127.0.0.1", silent.getLocalPort()));
    }

    DaneCache cache(DaneResolver resolver, PolicyStore store, Duration maxTtl) {
        return new DaneCache(resolver, DaneDecision.forPostfix(), store,
                new DaneCache.Settings(1000, Duration.ofMinutes(1), maxTtl,
                        Duration.ofSeconds(30)), clock::get);
    }

    static DaneState get(DaneCache cache, String domain) throws Exception {
        return cache.lookup(domain).get(30, TimeUnit.SECONDS);
    }

    @Test
    void resultsLiveForTheirTtlWithinTheBounds() throws Exception {
        long now = clock.get();
        // The world's records have TTL 300: kept 300 s, or 120 s when max_ttl says so.
        try (PolicyStore store = PolicyStore.open(Optional.empty())) {
            DaneState s = get(cache(working(), store, Duration.ofHours(1)), "dane-only.test");
            assertEquals(now + 300_000, s.validUntil());
            assertEquals(300, s.lookup().ttl());
            assertEquals("dane-only", ((PolicyOutcome.Apply) s.outcome()).policy().render());
        }
        try (PolicyStore store = PolicyStore.open(Optional.empty())) {
            DaneState capped = get(cache(working(), store, Duration.ofMinutes(2)),
                    "dane-only.test");
            assertEquals(now + 120_000, capped.validUntil());
        }
    }

    @Test
    void aRestartedDaemonAnswersFromTheStoreWithoutDns() throws Exception {
        Path file = dir.resolve("restart.db");
        DaneState before;
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            before = get(cache(working(), store, Duration.ofHours(1)), "mixed.test");
            store.count().get(10, TimeUnit.SECONDS); // queued writes done
        }
        clock.addAndGet(60_000);
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            DaneState after = get(cache(dead(), store, Duration.ofHours(1)), "mixed.test");
            assertEquals(before.lookup(), after.lookup());
            assertEquals(before.validUntil(), after.validUntil());
            assertEquals("dane", ((PolicyOutcome.Apply) after.outcome()).policy().render());
        }
        // Past its TTL the stored result is not used: DNS is asked, and it is down.
        clock.addAndGet(300_000);
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            DaneState expired = get(cache(dead(), store, Duration.ofHours(1)), "mixed.test");
            assertInstanceOf(PolicyOutcome.Defer.class, expired.outcome());
        }
    }

    @Test
    void aResultInUseIsRefreshedBeforeItExpires() throws Exception {
        try (PolicyStore store = PolicyStore.open(Optional.empty())) {
            DaneCache cache = cache(working(), store, Duration.ofHours(1));
            DaneState first = get(cache, "both.test");
            clock.addAndGet(200_000); // two thirds of 300 s: not yet
            assertSame(first, cache.known("both.test"));
            assertEquals(0, cache.refreshesInFlight());
            clock.addAndGet(30_000); // past three quarters: a use starts a refresh
            assertSame(first, cache.known("both.test"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            DaneState next = first;
            while (next == first && System.nanoTime() < deadline) {
                Thread.sleep(20);
                next = cache.peek("both.test").orElseThrow();
            }
            assertNotSame(first, next);
            assertEquals(clock.get() + 300_000, next.validUntil());
            assertEquals(first.lookup(), next.lookup());
        }
    }

    @Test
    void failuresAreKeptBrieflyAndNeverStored() throws Exception {
        try (PolicyStore store = PolicyStore.open(Optional.empty())) {
            DaneCache cache = cache(dead(), store, Duration.ofHours(1));
            DaneState s = get(cache, "dane-only.test");
            PolicyOutcome.Defer d = assertInstanceOf(PolicyOutcome.Defer.class, s.outcome());
            assertTrue(d.reason().startsWith("DNS lookup failed: MX lookup failed: timeout"),
                    d.reason());
            assertEquals(clock.get() + 30_000, s.validUntil());
            assertTrue(store.getDane("dane-only.test").get(10, TimeUnit.SECONDS).isEmpty());
            assertSame(s, cache.known("dane-only.test"));
            clock.addAndGet(30_000);
            assertNull(cache.known("dane-only.test"));
        }
    }

    @Test
    void aFailedRefreshKeepsTheResultUntilItsTtlEnds() throws Exception {
        Path file = dir.resolve("refresh.db");
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            get(cache(working(), store, Duration.ofHours(1)), "dane-only.test");
            store.count().get(10, TimeUnit.SECONDS);
            // The same store, DNS now down: the restored result is used, its refresh fails.
            DaneCache cache = cache(dead(), store, Duration.ofHours(1));
            DaneState restored = get(cache, "dane-only.test");
            clock.addAndGet(250_000);
            assertSame(restored, cache.known("dane-only.test"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (cache.refreshesInFlight() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertSame(restored, cache.known("dane-only.test"));
            clock.addAndGet(50_000); // 300 s after it was resolved: gone
            assertNull(cache.known("dane-only.test"));
        }
    }
}
