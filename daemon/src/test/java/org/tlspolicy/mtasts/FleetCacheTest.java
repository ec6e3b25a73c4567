package org.tlspolicy.mtasts;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.fleet.FleetKey;
import org.tlspolicy.fleet.SharedCache;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.RedisServer;
import org.tlspolicy.testworld.TestCa;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tlspolicy.mtasts.StsCacheTest.await;

/**
 * Fleet mode's MTA-STS side: three relays (each its own StsCache, store and shared-cache
 * client, as three tlspolicyd) on one real redis-server (Debian's; Valkey speaks the same
 * protocol), real DNS (knotd) and a real HTTPS policy host that counts its fetches. The server
 * is killed, restarted empty, stalled (SIGSTOP), filled and tampered with; every answer must
 * stay the domain's enforce policy.
 */
@Timeout(180)
class FleetCacheTest {

    static final int DOMAINS = 40;

    @TempDir
    static Path dir;
    static KnotServer knot;
    static TestCa ca;
    static Path keyFile;
    static Path otherKeyFile;
    static EventLoopGroup http = new NioEventLoopGroup(1);

    final AtomicLong clock = new AtomicLong(System.currentTimeMillis());
    final List<AutoCloseable> closeAfter = new ArrayList<>();
    PolicyHost host;
    RedisServer redis;

    static String policy() {
        return "version: STSv1\nmode: enforce\nmx: *.fleet.test\nmax_age: 86400\n";
    }

    @BeforeAll
    static void world() throws Exception {
        ca = TestCa.create("fleet test CA");
        StringBuilder z = new StringBuilder("""
                $ORIGIN test.
                $TTL 60
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 60
                @ NS ns.test.
                ns A 127.0.0.1
                """);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < DOMAINS; i++) {
            z.append("_mta-sts.d").append(i).append(" TXT \"v=STSv1; id=1;\"\n")
                    .append("mta-sts.d").append(i).append(" A 127.0.0.1\n");
            names.add("mta-sts.d" + i + ".test");
        }
        knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                Map.of("test.", z.toString()));
        keyFile = key("fleet.key", "c2VjcmV0IGZsZWV0IGtleSBvZiB0aGUgdGVzdCByZWxheXMK");
        otherKeyFile = key("other.key", "YW5vdGhlciBmbGVldCwgYW5vdGhlciBrZXksIHRoZSBzYW1lIHNlcnZlcgo");
        ca.writePem(dir.resolve("ca.pem"));
        identity = ca.issue(names);
    }

    static TestCa.ServerIdentity identity;

    static Path key(String name, String secret) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, secret + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        return p;
    }

    @AfterAll
    static void stop() throws Exception {
        knot.close();
        http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @BeforeEach
    void servers(org.junit.jupiter.api.TestInfo test) throws Exception {
        host = PolicyHost.start(identity, PolicyHost.ok(policy()));
        closeAfter.add(host);
        redis = RedisServer.start(dir.resolve("redis-" + test.getTestMethod().get().getName()),
                "maxmemory 64mb");
        closeAfter.add(redis);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeAfter) {
            c.close();
        }
    }

    /** One relay: what a tlspolicyd in fleet mode runs. */
    record Relay(StsCache cache, PolicyStore store, SharedCache shared) {
    }

    Relay relay(String uri, Path key) throws Exception {
        PolicyStore store = PolicyStore.open(Optional.empty());
        SharedCache shared = SharedCache.start(new SharedCache.Settings(uri, Optional.empty(),
                Optional.empty(), Optional.empty(), FleetKey.read(key), Duration.ofMillis(250),
                Duration.ofSeconds(10)), clock::get);
        PolicyFetcher fetcher = new PolicyFetcher(PolicyHostTrust.context(
                Optional.of(dir.resolve("ca.pem"))), Duration.ofSeconds(2),
                Duration.ofSeconds(5), host.port(), http, true);
        StsCache cache = new StsCache(new StsResolver(new DnsClient(List.of(knot.address()),
                Duration.ofSeconds(2), 2), fetcher), store, shared,
                new StsCache.Settings(1000, 1000 * 4096L, Duration.ofMinutes(5), Duration.ofMinutes(1),
                        Duration.ofHours(1), 100), clock::get);
        closeAfter.add(0, store);
        closeAfter.add(0, shared);
        closeAfter.add(0, cache);
        return new Relay(cache, store, shared);
    }

    Relay relay() throws Exception {
        Relay r = relay(redis.uri(), keyFile);
        await(() -> r.shared().upGauge() == 1, "the relay to reach the server");
        return r;
    }

    /** The enforce policy every domain publishes: anything else is a wrong answer. */
    static void assertEnforced(StsState s, String domain) {
        StsState.Policy p = assertInstanceOf(StsState.Policy.class, s, domain);
        assertEquals(StsPolicy.Mode.ENFORCE, p.policy().mode(), domain);
        assertEquals("*.fleet.test", p.policy().mx().get(0).toString(), domain);
    }

    static StsState get(Relay r, String domain) throws Exception {
        return r.cache().lookup(domain).get(60, TimeUnit.SECONDS);
    }

    @Test
    void threeRelaysFetchEachPolicyOnceForTheFleet() throws Exception {
        List<Relay> relays = List.of(relay(), relay(), relay());
        List<CompletableFuture<StsState>> answers = new ArrayList<>();
        for (int i = 0; i < DOMAINS; i++) {
            for (Relay r : relays) { // all three miss at once: one fetches, two wait for it
                answers.add(r.cache().lookup("d" + i + ".test"));
            }
        }
        for (int i = 0; i < answers.size(); i++) {
            assertEnforced(answers.get(i).get(60, TimeUnit.SECONDS), "d" + i / 3 + ".test");
        }
        assertEquals(DOMAINS, host.requests(), "policy host fetches for " + DOMAINS
                + " domains on three relays");
        long fromShared = relays.stream().mapToLong(r -> r.shared().hits()).sum();
        assertEquals(2L * DOMAINS, fromShared, "two relays of three answered from the fleet");
        for (Relay r : relays) { // and each committed what it answered to its own store
            for (int i = 0; i < DOMAINS; i++) {
                assertTrue(r.store().get("d" + i + ".test").get(10, TimeUnit.SECONDS)
                        .isPresent());
            }
        }
    }

    @Test
    void aSecondRelayAnswersFromTheFleetWithThePolicyHostDown() throws Exception {
        Relay a = relay();
        assertEnforced(get(a, "d1.test"), "d1.test");
        host.respondWith(PolicyHost.reset()); // the policy host is gone
        Relay b = relay();
        assertEnforced(get(b, "d1.test"), "d1.test");
        assertEquals(1, host.requests());
        // Committed to b's own store before it answered: it survives b's kill -9.
        assertEquals("1", b.store().get("d1.test").get(10, TimeUnit.SECONDS).orElseThrow().id());
    }

    @Test
    void aRefreshIsFetchedOnceForTheFleet() throws Exception {
        List<Relay> relays = List.of(relay(), relay(), relay());
        for (Relay r : relays) {
            assertEnforced(get(r, "d2.test"), "d2.test");
        }
        assertEquals(1, host.requests());
        // Past half the max_age and its ±10% jitter (13.2 h): the refresh is due everywhere.
        clock.addAndGet(Duration.ofHours(14).toMillis());
        List<CompletableFuture<Void>> refreshes = new ArrayList<>();
        for (Relay r : relays) {
            refreshes.add(CompletableFuture.runAsync(() -> {
                try {
                    r.cache().refreshDueAndWait();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
        }
        for (CompletableFuture<Void> f : refreshes) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertEquals(2, host.requests(), "one refresh fetch for three relays");
        for (Relay r : relays) {
            StsState.Policy p = (StsState.Policy) r.cache().peek("d2.test").orElseThrow();
            assertEquals(clock.get(), p.fetchedAt(), "every relay has the refreshed policy");
            assertTrue(p.refreshAt() > clock.get());
        }
    }

    @Test
    void tamperedAndForeignEntriesAreIgnoredAndCounted() throws Exception {
        Relay a = relay();
        assertEnforced(get(a, "d3.test"), "d3.test");
        String genuine = redis.command("GET", "tlspolicy:sts:d3.test");
        assertNotNull(genuine);
        // Whoever can write to the server plants "no MTA-STS" three ways: the body changed
        // under the old MAC, d3's genuine entry moved to d4, and one made with another key.
        String[] f = genuine.split(" ");
        String none = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString("none planted".getBytes());
        redis.command("SET", "tlspolicy:sts:d5.test",
                f[0] + " " + f[1] + " " + f[2] + " " + none + " " + f[4]);
        redis.command("SET", "tlspolicy:sts:d4.test", genuine);
        Relay foreign = relay(redis.uri(), otherKeyFile);
        await(() -> foreign.shared().upGauge() == 1, "the foreign relay");
        foreign.shared().putSts("d6.test", new org.tlspolicy.cache.SharedTier.NoPolicyEntry(
                "planted", clock.get() + 3_600_000)).get(10, TimeUnit.SECONDS);

        Relay b = relay();
        for (String d : new String[] {"d4.test", "d5.test", "d6.test"}) {
            assertEnforced(get(b, d), d);
        }
        // Each read of the three counts: once before the lease, once after it.
        assertTrue(b.shared().rejected() >= 3, "rejected: " + b.shared().rejected());
        assertEquals(4, host.requests(), "each planted entry's domain fetched for real");
        for (String d : new String[] {"d4.test", "d5.test", "d6.test"}) {
            assertEnforced(get(relay(), d), d); // b's genuine entries replaced the planted
        }
        assertEquals(4, host.requests());
    }

    /**
     * A relay with nothing to ask (every domain in memory) still notices the server go and
     * come back: the gauge and the log follow the connection, not only failed commands.
     */
    @Test
    void aServerLostAndBackIsNoticedWithoutLookups() throws Exception {
        Relay r = relay();
        await(() -> r.shared().upGauge() == 1, "the first connection");
        redis.kill();
        await(() -> r.shared().upGauge() == 0, "the loss noticed without a lookup");
        redis.restart();
        await(() -> r.shared().upGauge() == 1, "the reconnection noticed without a lookup");
    }

    @Test
    void noWrongAnswerWhileTheServerIsKilledAndRestartedEmpty() throws Exception {
        List<Relay> relays = List.of(relay(), relay(), relay());
        for (int i = 0; i < DOMAINS; i++) {
            if (i == DOMAINS / 4) {
                redis.kill();
            }
            if (i == DOMAINS / 2) {
                redis.restart(); // empty
            }
            for (Relay r : relays) {
                assertEnforced(get(r, "d" + i + ".test"), "d" + i + ".test");
            }
        }
        for (Relay r : relays) {
            await(() -> r.shared().upGauge() == 1, "reconnection after the restart");
        }
        long before = host.requests();
        for (Relay r : relays) {
            assertEnforced(get(r, "d" + (DOMAINS - 1) + ".test"), "again");
        }
        assertEquals(before, host.requests());
        assertTrue(host.requests() >= DOMAINS && host.requests() <= 3L * DOMAINS);
        assertTrue(redis.command("DBSIZE").equals(String.valueOf(
                Integer.parseInt(redis.command("DBSIZE")))), "the server answers");
    }

    @Test
    void aServerDownAtStartIsUsedOnceItAnswers() throws Exception {
        redis.kill();
        Relay a = relay(redis.uri(), keyFile);
        assertEnforced(get(a, "d7.test"), "d7.test"); // from the network, at once
        assertEquals(0, a.shared().upGauge());
        redis.restart();
        // Tried again every 2 s in the background, with no lookup needing it meanwhile.
        await(() -> a.shared().upGauge() == 1, "the relay to reconnect by itself");
        assertEquals(1, a.shared().upGauge());
        assertEnforced(get(a, "d30.test"), "d30.test");
        assertNotNull(redis.command("GET", "tlspolicy:sts:d30.test"));
    }

    @Test
    void aStalledServerCostsALookupAtMostItsTimeouts() throws Exception {
        Relay a = relay();
        redis.pause();
        try {
            long start = System.nanoTime();
            assertEnforced(get(a, "d9.test"), "d9.test");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            // Two commands of 250 ms at most before the server is left alone; Postfix waits
            // 100 s for a socketmap reply.
            assertTrue(ms < 5000, "lookup took " + ms + " ms");
            assertEquals(0, a.shared().upGauge());
            assertEnforced(get(a, "d10.test"), "d10.test");
        } finally {
            redis.resume();
        }
    }

    @Test
    void aFullServerRefusingWritesLosesNothing() throws Exception {
        redis.command("CONFIG", "SET", "maxmemory", "1");
        redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction");
        List<Relay> relays = List.of(relay(), relay());
        for (int i = 11; i < 16; i++) {
            for (Relay r : relays) {
                assertEnforced(get(r, "d" + i + ".test"), "d" + i + ".test");
            }
        }
        for (Relay r : relays) {
            assertTrue(r.shared().errors() > 0, "OOM refusals counted");
            assertEquals(1, r.shared().upGauge(), "a full server is not a down one");
        }
        assertEquals("0", redis.command("DBSIZE"));
    }

    @Test
    void aPurgeOnOneRelayReachesTheFleet() throws Exception {
        Relay a = relay();
        assertEnforced(get(a, "d16.test"), "d16.test");
        // The receiver fixes its policy; the operator purges it on one relay.
        host.respondWith(PolicyHost.ok(policy().replace("enforce", "testing")));
        a.cache().purge("d16.test").get(10, TimeUnit.SECONDS);
        assertEquals(null, redis.command("GET", "tlspolicy:sts:d16.test"));
        Relay b = relay();
        StsState.Policy p = assertInstanceOf(StsState.Policy.class, get(b, "d16.test"));
        assertEquals(StsPolicy.Mode.TESTING, p.policy().mode(), "fetched anew, not the old");
        assertEquals(2, host.requests());
    }

    @Test
    void aNoMtaStsInUseIsRefreshedFromDnsNotFromTheFleet() throws Exception {
        Relay a = relay();
        Relay b = relay();
        assertInstanceOf(StsState.NoPolicy.class, get(a, "nothing.test"));
        StsState.NoPolicy shared = assertInstanceOf(StsState.NoPolicy.class,
                get(b, "nothing.test"));
        assertEquals(1, b.shared().hits(), "b's first answer is a's");
        clock.set(shared.refreshAt()); // due for its background refresh on b
        assertInstanceOf(StsState.NoPolicy.class, b.cache().known("nothing.test"));
        await(() -> b.cache().peek("nothing.test").orElseThrow().validUntil()
                > shared.validUntil(), "b's own resolution");
        assertEquals(1, b.shared().hits(), "the refresh asked DNS, not the shared entry again");
    }

    @Test
    void aFullServerEvictingEntriesLosesNothing() throws Exception {
        List<Relay> relays = List.of(relay(), relay()); // connected: their buffers count
        // The server nearly full of other data, maxmemory just above it: each entry the
        // relays write makes it evict (allkeys-lru), theirs among others.
        String filler = "x".repeat(1000);
        for (int i = 0; i < 300; i++) {
            redis.command("SET", "filler:" + i, filler);
        }
        java.util.regex.Matcher used = java.util.regex.Pattern.compile("used_memory:(\\d+)")
                .matcher(redis.command("INFO", "memory"));
        assertTrue(used.find());
        redis.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        redis.command("CONFIG", "SET", "maxmemory",
                Long.toString(Long.parseLong(used.group(1)) + 2000));
        for (int i = 20; i < 30; i++) {
            for (Relay r : relays) {
                assertEnforced(get(r, "d" + i + ".test"), "d" + i + ".test");
            }
        }
        java.util.regex.Matcher evicted = java.util.regex.Pattern.compile(
                "evicted_keys:(\\d+)").matcher(redis.command("INFO", "stats"));
        assertTrue(evicted.find() && Long.parseLong(evicted.group(1)) > 0,
                "the server evicted entries");
        for (Relay r : relays) {
            assertEquals(1, r.shared().upGauge(), "an evicting server is not a down one");
        }
        assertTrue(host.requests() >= 10 && host.requests() <= 20, "" + host.requests());
    }
}
