package org.tlspolicy.mtasts;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.cache.StoredPolicy;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyTable;
import org.tlspolicy.tlsrpt.TlsrptMode;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cache's RFC 8461 behaviour against a real authoritative DNS server (knotd) and real HTTPS
 * policy hosts on loopback. Time is a clock the test moves (policies live for hours); DNS and
 * HTTPS are real.
 */
@Timeout(120)
class StsCacheTest {

    static final Duration TTL = Duration.ofMinutes(5);
    static final Duration CHECK = Duration.ofHours(1);

    @TempDir
    static Path dir;
    static KnotServer knot;
    static TestCa ca;
    static final Map<String, String> txt = new TreeMap<>();
    static int serial = 1;
    static EventLoopGroup http = new NioEventLoopGroup(1);

    final AtomicLong clock = new AtomicLong(System.currentTimeMillis());
    final List<AutoCloseable> closeAfter = new ArrayList<>();

    static String policy(String mode, String mx, long maxAge) {
        return "version: STSv1\nmode: " + mode + "\nmx: " + mx + "\nmax_age: " + maxAge + "\n";
    }

    @BeforeAll
    static void world() throws Exception {
        ca = TestCa.create("cache test CA");
        txt.put("good", "v=STSv1; id=1;");
        txt.put("shared", "v=STSv1; id=1;");
        txt.put("changing", "v=STSv1; id=1;");
        txt.put("down", "v=STSv1; id=1;");
        txt.put("persist", "v=STSv1; id=1;");
        txt.put("refresh", "v=STSv1; id=1;");
        txt.put("other", "v=STSv1; id=1;");
        knot = KnotServer.start(dir, Map.of("test.", zone()));
    }

    static String zone() {
        StringBuilder z = new StringBuilder("""
                $ORIGIN test.
                $TTL 60
                @ SOA ns.test. hostmaster.test. %d 3600 900 604800 60
                @ NS ns.test.
                ns A 127.0.0.1
                """.formatted(serial));
        txt.forEach((name, value) -> z.append("_mta-sts.").append(name).append(" TXT \"")
                .append(value).append("\"\nmta-sts.").append(name).append(" A 127.0.0.1\n"));
        return z.toString();
    }

    static void setTxt(String name, String value) throws Exception {
        if (value == null) {
            txt.remove(name);
        } else {
            txt.put(name, value);
        }
        serial++;
        knot.update(Map.of("test.", zone()));
    }

    @AfterAll
    static void stop() throws Exception {
        knot.close();
        http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeAfter) {
            c.close();
        }
    }

    PolicyHost host(String domain, PolicyHost.Responder r) throws Exception {
        PolicyHost h = PolicyHost.start(ca.issue("mta-sts." + domain), r);
        closeAfter.add(h);
        return h;
    }

    StsCache cache(int port, PolicyStore store) throws Exception {
        return cache(new DnsClient(List.of(knot.address()), Duration.ofSeconds(2), 2), port,
                store, 1000);
    }

    /** A cache on {@code dns} whose policy hosts are on {@code port}, closed after the test. */
    StsCache cache(DnsClient dns, int port, PolicyStore store, int maxEntries) throws Exception {
        PolicyFetcher fetcher = new PolicyFetcher(PolicyHostTrust.context(
                Optional.of(ca.writePem(dir.resolve("ca.pem")))), Duration.ofSeconds(2),
                Duration.ofSeconds(5), port, http, true);
        StsCache c = new StsCache(new StsResolver(dns, fetcher), store,
                new StsCache.Settings(maxEntries, maxEntries * 4096L, TTL, Duration.ofMinutes(1), CHECK, 100),
                clock::get);
        closeAfter.add(0, c);
        return c;
    }

    /** Stores {@code count} enforce policies PREFIX0.test … as fetched now (as after a restart). */
    void storePolicies(PolicyStore store, String prefix, int count) throws Exception {
        long now = clock.get();
        for (int i = 0; i < count; i++) {
            store.put(new StoredPolicy(prefix + i + ".test", "1",
                    policy("enforce", "mx." + prefix + i + ".test", 86400), now,
                    now + 86_400_000L, now + 43_200_000L, now)).get(10, TimeUnit.SECONDS);
        }
    }

    StsCache cache(int port) throws Exception {
        PolicyStore store = PolicyStore.open(Optional.empty());
        closeAfter.add(store);
        return cache(port, store);
    }

    static StsState get(StsCache c, String domain) throws Exception {
        return c.lookup(domain).get(30, TimeUnit.SECONDS);
    }

    private static boolean sameObjects(List<?> a, List<?> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void fetchedPolicyIsServedFromMemoryUntilMaxAge() throws Exception {
        PolicyHost host = host("good.test", PolicyHost.ok(policy("enforce", "mx.good.test", 86400)));
        StsCache c = cache(host.port());
        StsState.Policy p = assertInstanceOf(StsState.Policy.class, get(c, "good.test"));
        assertEquals("1", p.id());
        assertEquals(StsPolicy.Mode.ENFORCE, p.policy().mode());
        CompletableFuture<StsState> hit = c.lookup("good.test");
        assertTrue(hit.isDone(), "a cached policy is answered at once");
        assertSame(p, hit.get());
        assertEquals(1, host.requests());

        clock.addAndGet(Duration.ofSeconds(86400).toMillis()); // max_age reached
        StsState.Policy again = assertInstanceOf(StsState.Policy.class, get(c, "good.test"));
        assertEquals(2, host.requests(), "an expired policy is fetched again");
        assertEquals(clock.get(), again.fetchedAt());
    }

    @Test
    void postfixKeysGetTheEnforcedPolicyThroughTheSocketmapTable() throws Exception {
        PolicyHost host = host("good.test", PolicyHost.ok(policy("enforce", "*.good.test", 86400)));
        StsCache c = cache(host.port());
        PolicyTable table = new PolicyTable("postfix", new StsPolicyResolver(c,
                new StsDecision(false, TlsrptMode.OFF)));
        for (String key : new String[] {"Good.Test", "good.test.", "good.test"}) {
            assertEquals("OK secure match=.good.test servername=hostname",
                    table.lookup("postfix", key).get(30, TimeUnit.SECONDS).payload(), key);
        }
        assertEquals(1, host.requests());
        assertEquals("NOTFOUND ", table.lookup("postfix", "absent.test").get(30, TimeUnit.SECONDS)
                .payload());
    }

    @Test
    void lookupsArrivingTogetherShareOneFetch() throws Exception {
        PolicyHost host = host("shared.test", PolicyHost.delayed(Duration.ofMillis(500),
                PolicyHost.ok(policy("enforce", "mx.shared.test", 86400))));
        StsCache c = cache(host.port());
        List<CompletableFuture<StsState>> all = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            all.add(c.lookup("shared.test"));
        }
        for (CompletableFuture<StsState> f : all) {
            assertInstanceOf(StsState.Policy.class, f.get(30, TimeUnit.SECONDS));
        }
        assertEquals(1, host.requests());
    }

    @Test
    void newTxtIdTriggersARefetchWhichReplacesThePolicy() throws Exception {
        PolicyHost host = host("changing.test",
                PolicyHost.ok(policy("enforce", "mx1.changing.test", 86400)));
        StsCache c = cache(host.port());
        assertEquals("1", ((StsState.Policy) get(c, "changing.test")).id());

        setTxt("changing", "v=STSv1; id=2;");
        host.respondWith(PolicyHost.ok(policy("enforce", "mx2.changing.test", 86400)));
        // Within the check interval the TXT record is not looked at again.
        assertEquals("1", ((StsState.Policy) get(c, "changing.test")).id());
        clock.addAndGet(CHECK.toMillis());
        StsState stale = get(c, "changing.test"); // answered at once, revalidation starts
        assertEquals("1", ((StsState.Policy) stale).id());
        await(() -> c.peek("changing.test").map(s -> ((StsState.Policy) s).id()).orElse("")
                .equals("2"), "the new policy");
        StsState.Policy p = (StsState.Policy) get(c, "changing.test");
        assertEquals("mx2.changing.test", p.policy().mx().get(0).base());
        assertEquals(2, host.requests());
    }

    @Test
    void failedRefetchKeepsThePolicyAndSaysWhy() throws Exception {
        PolicyHost host = host("down.test", PolicyHost.ok(policy("enforce", "mx.down.test", 86400)));
        StsCache c = cache(host.port());
        assertInstanceOf(StsState.Policy.class, get(c, "down.test"));

        setTxt("down", "v=STSv1; id=2;");
        host.respondWith(PolicyHost.status(500));
        clock.addAndGet(CHECK.toMillis());
        get(c, "down.test");
        await(() -> !((StsState.Policy) c.peek("down.test").orElseThrow()).refreshProblem()
                .isEmpty(), "the failed refresh");
        StsState.Policy p = (StsState.Policy) get(c, "down.test");
        assertEquals("1", p.id(), "the old policy stays in force");
        assertTrue(p.refreshProblem().contains("sts-policy-fetch-error"), p.refreshProblem());

        // Once it expires with the host still failing: no policy, and the failure is named.
        clock.addAndGet(Duration.ofSeconds(86400).toMillis());
        StsState.NoPolicy none = assertInstanceOf(StsState.NoPolicy.class, get(c, "down.test"));
        assertEquals(StsFailure.FETCH_ERROR, none.failure());
        setTxt("down", "v=STSv1; id=1;");
    }

    @Test
    void txtRecordRemovedKeepsTheCachedPolicyUntilExpiry() throws Exception {
        PolicyHost host = host("other.test", PolicyHost.ok(policy("enforce", "mx.other.test", 7200)));
        StsCache c = cache(host.port());
        assertInstanceOf(StsState.Policy.class, get(c, "other.test"));
        setTxt("other", null);
        clock.addAndGet(CHECK.toMillis());
        get(c, "other.test");
        await(() -> ((StsState.Policy) c.peek("other.test").orElseThrow()).checkedAt()
                == clock.get(), "the TXT check");
        assertEquals("1", ((StsState.Policy) get(c, "other.test")).id());
        clock.addAndGet(Duration.ofSeconds(7200).toMillis());
        StsState.NoPolicy none = assertInstanceOf(StsState.NoPolicy.class, get(c, "other.test"));
        assertNull(none.failure());
        setTxt("other", "v=STSv1; id=1;");
    }

    @Test
    void restartAnswersFromTheStoreWithThePolicyHostDown() throws Exception {
        Path file = dir.resolve("restart.db");
        PolicyHost host = PolicyHost.start(ca.issue("mta-sts.persist.test"),
                PolicyHost.ok(policy("enforce", "*.persist.test", 86400)));
        int port = host.port();
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            StsCache c = cache(port, store);
            assertInstanceOf(StsState.Policy.class, get(c, "persist.test"));
            c.close();
        }
        host.close(); // the policy host is gone
        setTxt("persist", "v=STSv1; id=2;"); // and DNS announces a policy nobody can fetch
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            StsCache restarted = cache(port, store);
            StsState.Policy p = assertInstanceOf(StsState.Policy.class,
                    get(restarted, "persist.test"));
            assertEquals("1", p.id());
            assertEquals("*.persist.test", p.policy().mx().get(0).toString());
        } finally {
            setTxt("persist", "v=STSv1; id=1;");
        }
    }

    @Test
    void afterARestartTheFirstUsesCheckAtMost64TxtRecordsAtOnce() throws Exception {
        // A bound UDP socket that never answers: every TXT check stays in flight until it
        // times out (the one fault knotd cannot be made to show).
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress());
             PolicyStore store = PolicyStore.open(Optional.empty())) {
            storePolicies(store, "p", 200);
            StsCache c = cache(new DnsClient(List.of((InetSocketAddress)
                    silent.getLocalSocketAddress()), Duration.ofSeconds(5), 1), 443, store, 1000);
            for (int i = 0; i < 200; i++) {
                assertInstanceOf(StsState.Policy.class, get(c, "p" + i + ".test"));
            }
            for (int i = 0; i < 200; i++) { // every one used again: due a check, not yet done
                assertInstanceOf(StsState.Policy.class, c.known("p" + i + ".test"));
            }
            assertEquals(64, c.checksInFlight());
        }
    }

    @Test
    void decisionsOfTwoThousandHotDomainsAreRememberedUntilTheirStateChanges() throws Exception {
        try (PolicyStore store = PolicyStore.open(Optional.empty())) {
            storePolicies(store, "h", 2000);
            StsCache c = cache(new DnsClient(List.of(knot.address()), Duration.ofSeconds(2), 2),
                    1, store, 10_000);
            StsPolicyResolver r = new StsPolicyResolver(c, new StsDecision(false, TlsrptMode.OFF));
            List<PolicyOutcome> first = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                get(c, "h" + i + ".test");
            }
            // Each first use checks the TXT record (64 at a time, the rest at later uses), and
            // each check makes a new state: use them all until two passes, with every check
            // finished between them, see the same states. (Stopping at the first pass that
            // ended with no check in flight was a race: checks over loopback can all finish
            // within the pass that left some domains unchecked; CI caught it once.)
            List<StsState> previous = List.of();
            for (int pass = 0; pass < 100; pass++) {
                c.refreshDueAndWait();
                List<StsState> states = new ArrayList<>();
                for (int i = 0; i < 2000; i++) {
                    states.add(c.known("h" + i + ".test"));
                }
                await(() -> c.checksInFlight() == 0, "the checks of pass " + pass);
                if (sameObjects(states, previous)) {
                    break;
                }
                previous = states;
            }
            assertEquals(0, c.checksInFlight());
            for (int pass = 0; pass < 5; pass++) { // domains sharing a slot settle apart
                for (int i = 0; i < 2000; i++) {
                    r.known(new NextHop.Domain("h" + i + ".test"));
                }
            }
            for (int i = 0; i < 2000; i++) {
                PolicyOutcome o = r.known(new NextHop.Domain("h" + i + ".test"));
                assertInstanceOf(PolicyOutcome.Apply.class, o, "h" + i + ".test");
                first.add(o);
            }
            for (int i = 0; i < 2000; i++) {
                assertSame(first.get(i), r.known(new NextHop.Domain("h" + i + ".test")),
                        "h" + i + ".test decided again");
            }
            // A new state (here: a refetch that failed) is decided anew.
            StsState.Policy p = (StsState.Policy) c.known("h7.test");
            assertInstanceOf(StsState.Policy.class, c.revalidate("h7.test", p, true)
                    .get(30, TimeUnit.SECONDS));
            PolicyOutcome again = r.known(new NextHop.Domain("h7.test"));
            assertTrue(again != first.get(7), "decided again after the state changed");
            assertEquals(first.get(7).reason().replaceAll(";.*", ""), again.reason()
                    .replaceAll(";.*", ""));
        }
    }

    @Test
    void policiesInUseAreRefreshedBeforeTheyExpireAndUnusedOnesAreNot() throws Exception {
        PolicyHost host = host("refresh.test",
                PolicyHost.ok(policy("enforce", "mx.refresh.test", 86400)));
        PolicyStore store = PolicyStore.open(Optional.of(dir.resolve("refresh.db")));
        closeAfter.add(store);
        StsCache c = cache(host.port(), store);
        StsState.Policy first = (StsState.Policy) get(c, "refresh.test");
        long half = first.refreshAt() - first.fetchedAt();
        assertTrue(half >= 38_880_000 && half <= 47_520_000, "refresh at half max_age ±10%: "
                + half);

        c.refreshDueAndWait();
        assertEquals(1, host.requests(), "nothing is due yet");

        clock.set(first.refreshAt());
        c.refreshDueAndWait();
        assertEquals(2, host.requests(), "refreshed in the background when due");
        StoredPolicy stored = store.get("refresh.test").get().orElseThrow();
        assertEquals(clock.get(), stored.fetchedAt());
        assertEquals(clock.get() + 86_400_000, stored.expiresAt());

        // Nobody used it since: it is left to expire rather than refreshed forever.
        clock.set(stored.refreshAt());
        c.refreshDueAndWait();
        assertEquals(2, host.requests());

        // A use makes it due again.
        get(c, "refresh.test");
        c.refreshDueAndWait();
        assertEquals(3, host.requests());
    }

    @Test
    void aDomainWithoutMtaStsInUseIsResolvedAgainBeforeItsAnswerExpires() throws Exception {
        StsCache c = cache(1);
        StsState.NoPolicy none = assertInstanceOf(StsState.NoPolicy.class, get(c, "inuse.test"));
        long lifetime = none.validUntil() - clock.get();
        assertEquals(lifetime * 3 / 4, none.refreshAt() - clock.get(), "from 75% of its time");
        clock.set(none.refreshAt() - 1);
        assertSame(none, get(c, "inuse.test"));
        Thread.sleep(200);
        assertSame(none, c.peek("inuse.test").orElseThrow(), "not before refreshAt");
        clock.set(none.refreshAt());
        assertSame(none, get(c, "inuse.test"), "still valid: answered at once");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        StsState again = none;
        while (again == none && System.nanoTime() < deadline) {
            Thread.sleep(10);
            again = c.peek("inuse.test").orElseThrow();
        }
        StsState.NoPolicy fresh = assertInstanceOf(StsState.NoPolicy.class, again);
        assertTrue(fresh != none, "replaced in the background");
        assertTrue(fresh.validUntil() > none.validUntil(), "and valid for longer");
        // Unused: nothing replaces it before it expires.
        clock.set(fresh.refreshAt());
        Thread.sleep(200);
        assertSame(fresh, c.peek("inuse.test").orElseThrow());
    }

    @Test
    void domainWithoutMtaStsIsRememberedForTheNegativeTtl() throws Exception {
        StsCache c = cache(1);
        StsState.NoPolicy none = assertInstanceOf(StsState.NoPolicy.class, get(c, "absent.test"));
        assertEquals("no _mta-sts name", none.reason());
        assertNull(none.failure());
        assertSame(none, get(c, "absent.test"));
        assertTrue(none.validUntil() <= clock.get() + TTL.toMillis(), "at most the TTL");
        clock.set(none.validUntil());
        // Past it: answered at once from the expired entry (30 s at most), while it is
        // resolved again in the background.
        assertSame(none, get(c, "absent.test"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        StsState again = none;
        while (again == none && System.nanoTime() < deadline) {
            Thread.sleep(10);
            again = c.peek("absent.test").orElseThrow();
        }
        assertInstanceOf(StsState.NoPolicy.class, again);
        assertTrue(again != none, "resolved afresh after the negative TTL");
        // Never more than 30 s stale: past that a lookup waits for its resolution.
        StsState.NoPolicy fresh = (StsState.NoPolicy) again;
        clock.set(fresh.validUntil() + 30_000);
        assertTrue(get(c, "absent.test") != fresh, "not served 30 s past its TTL");
    }

    @Test
    void unreachableDnsIsAFailureRememberedBriefly() throws Exception {
        DnsClient dead = new DnsClient(List.of(new java.net.InetSocketAddress("127.0.0.1", 9)),
                Duration.ofMillis(200), 1);
        PolicyStore store = PolicyStore.open(Optional.empty());
        closeAfter.add(store);
        StsCache c = new StsCache(new StsResolver(dead, null), store,
                new StsCache.Settings(1000, 1000 * 4096L, TTL, Duration.ofMinutes(1), CHECK, 100), clock::get);
        StsState.NoPolicy none = assertInstanceOf(StsState.NoPolicy.class, get(c, "good.test"));
        assertTrue(none.reason().startsWith("TXT lookup"), none.reason());
        // failure_ttl, shortened by up to 15% so that failures made together expire apart.
        assertTrue(none.validUntil() <= clock.get() + 60_000
                && none.validUntil() >= clock.get() + 51_000, "" + none.validUntil());
    }
}
