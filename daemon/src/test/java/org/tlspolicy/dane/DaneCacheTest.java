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
                new DaneCache.Settings(1000, 1000 * 4096L, Duration.ofMinutes(1), maxTtl,
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
            // The TTL, shortened by at most 15% (answers made together expire apart).
            assertTrue(s.validUntil() <= now + 300_000 && s.validUntil() >= now + 255_000,
                    "" + (s.validUntil() - now));
            long lifetime = s.validUntil() - now;
            assertTrue(s.refreshAt() >= now + lifetime * 70 / 100
                    && s.refreshAt() <= now + lifetime * 80 / 100, "" + (s.refreshAt() - now));
            // dane-only may answer one more lifetime past it while being refreshed.
            assertEquals(s.validUntil() + lifetime, s.staleUntil());
            assertEquals(300, s.lookup().ttl());
            assertEquals("dane-only", ((PolicyOutcome.Apply) s.outcome()).policy().render());
        }
        try (PolicyStore store = PolicyStore.open(Optional.empty())) {
            DaneState capped = get(cache(working(), store, Duration.ofMinutes(2)),
                    "dane-only.test");
            assertTrue(capped.validUntil() <= now + 120_000
                    && capped.validUntil() >= now + 102_000, "" + (capped.validUntil() - now));
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
        // Past its TTL and its stale bound the stored result is not used: DNS is asked, and
        // it is down.
        clock.set(before.staleUntil());
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
            clock.set(first.refreshAt() - 1); // not yet
            assertSame(first, cache.known("both.test"));
            assertEquals(0, cache.refreshesInFlight());
            clock.set(first.refreshAt()); // a use now starts a refresh
            assertSame(first, cache.known("both.test"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            DaneState next = first;
            while (next == first && System.nanoTime() < deadline) {
                Thread.sleep(20);
                next = cache.peek("both.test").orElseThrow();
            }
            assertNotSame(first, next);
            assertTrue(next.validUntil() > first.validUntil(), "replaced by a newer result");
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

    /**
     * A dane-only result whose refresh fails (DNS down) still answers past its TTL, for at most
     * one more lifetime (a stale dane-only cannot downgrade), then no longer.
     */
    @Test
    void aFailedRefreshKeepsADaneResultWithinItsStaleBound() throws Exception {
        Path file = dir.resolve("refresh.db");
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            get(cache(working(), store, Duration.ofHours(1)), "dane-only.test");
            store.count().get(10, TimeUnit.SECONDS);
            // The same store, DNS now down: the restored result is used, its refresh fails.
            DaneCache cache = cache(dead(), store, Duration.ofHours(1));
            DaneState restored = get(cache, "dane-only.test");
            clock.set(restored.validUntil() + 1);
            assertSame(restored, cache.known("dane-only.test"), "stale, while refreshing");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (cache.refreshesInFlight() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            clock.set(restored.staleUntil() - 1);
            assertSame(restored, cache.known("dane-only.test"));
            clock.set(restored.staleUntil());
            assertNull(cache.known("dane-only.test"));
        }
    }

    /**
     * Results that expire together (short TTLs, resolved at once) do not make lookups of known
     * domains wait for DNS, even a DNS that now answers 2 s late: past their TTLs they answer
     * at once while they are resolved again. A result without DANE answers at most 30 s stale.
     */
    @Test
    void expiredResultsOfKnownDomainsAnswerAtOnceWhileRefreshed() throws Exception {
        try (PolicyStore store = PolicyStore.open(Optional.empty());
             org.tlspolicy.testworld.DnsRelay relay = org.tlspolicy.testworld.DnsRelay.start(
                     world.authority())) {
            DaneCache cache = new DaneCache(resolver(relay.address()), DaneDecision.forPostfix(),
                    store, new DaneCache.Settings(1000, 1000 * 4096L, Duration.ofMinutes(1),
                    Duration.ofHours(1), Duration.ofSeconds(30)), clock::get);
            List<String> domains = List.of("dane-only.test", "mixed.test", "sts-only.test",
                    "nullmx.test", "both.test");
            java.util.Map<String, DaneState> first = new java.util.HashMap<>();
            for (String d : domains) {
                first.put(d, get(cache, d));
            }
            relay.delay(Duration.ofSeconds(2));
            long start = System.nanoTime();
            for (String d : domains.stream().sorted(java.util.Comparator.comparingLong(
                    d -> first.get(d).validUntil())).toList()) {
                clock.set(first.get(d).validUntil() + 1); // just expired
                DaneState now = cache.lookup(d).get(30, TimeUnit.SECONDS);
                assertSame(first.get(d), now, d + " answered from memory");
            }
            assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(500),
                    "no lookup waited for the late DNS");
            // sts-only.test has no DANE: 30 s stale at most.
            DaneState noDane = first.get("sts-only.test");
            assertEquals(noDane.validUntil() + 30_000, noDane.staleUntil());
        }
    }

    /**
     * A refresh of a result in use does not queue behind lookups of new domains waiting for
     * the resolution rate (a flood of them must not make known domains' results outlive their
     * stale bounds).
     */
    @Test
    void refreshesDoNotWaitBehindTheResolutionRate() throws Exception {
        try (PolicyStore store = PolicyStore.open(Optional.empty());
             org.tlspolicy.outbound.ResolutionRate rate =
                     org.tlspolicy.outbound.ResolutionRate.of(1, 1)) {
            DaneResolver resolver = new DaneResolver(new DnsClient(List.of(world.authority()),
                    Duration.ofMillis(500), 1, Optional.of(Files.readString(
                    world.trustAnchorFile()))), rate);
            DaneCache cache = cache(resolver, store, Duration.ofHours(1));
            DaneState first = get(cache, "dane-only.test"); // the one token of this second
            List<java.util.concurrent.CompletableFuture<Void>> flood = new java.util.ArrayList<>();
            for (int i = 0; i < 30; i++) {
                flood.add(rate.acquire()); // thirty seconds' worth of new domains, queued
            }
            assertEquals(30, rate.waiting());
            clock.set(first.refreshAt() + 1); // in use, due for refresh
            assertSame(first, get(cache, "dane-only.test"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (cache.peek("dane-only.test").orElseThrow() == first
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertNotSame(first, cache.peek("dane-only.test").orElseThrow(),
                    "refreshed while the flood waits");
            assertTrue(rate.waiting() >= 25, "the flood still waits: " + rate.waiting());
        }
    }
}
