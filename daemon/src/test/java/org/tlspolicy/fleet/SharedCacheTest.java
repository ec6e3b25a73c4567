package org.tlspolicy.fleet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.cache.SharedTier;
import org.tlspolicy.cache.StoredDane;
import org.tlspolicy.testworld.RedisServer;
import org.tlspolicy.testworld.TestCa;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared cache client against a real redis-server: TLS with strict certificate checks,
 * an ACL user with a password, leases that only their holder releases and that lapse, and a
 * server that refuses the client (wrong CA, wrong password) costing nothing but the tier.
 */
@Timeout(60)
class SharedCacheTest {

    static final FleetKey KEY = FleetKey.of("the fleet key of the SharedCache tests......"
            .getBytes(StandardCharsets.US_ASCII));

    @TempDir
    Path dir;
    final List<AutoCloseable> closeAfter = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeAfter) {
            c.close();
        }
    }

    SharedCache client(String uri, Optional<String> user, Optional<Path> password,
                       Optional<Path> ca, Duration lease) throws Exception {
        SharedCache c = SharedCache.start(new SharedCache.Settings(uri, user, password, ca, KEY,
                Duration.ofMillis(500), lease), System::currentTimeMillis);
        closeAfter.add(0, c);
        return c;
    }

    static final String[] ACL = {
        "user default off",
        "user admin on >admin-secret ~* &* +@all",
        // What a relay needs, as docs/fleet.md gives it: its own keys; HELLO and AUTH to log
        // in, GET, SET, and EVAL for the release script, which runs GET and DEL. (Lettuce's
        // CLIENT SETINFO, which Redis 7.0 does not know, may be refused: it carries on.)
        "user fleet on >fleet-secret resetkeys ~tlspolicy:* resetchannels -@all +hello "
                + "+auth +ping +get +set +eval +del"};

    RedisServer tlsServer(TestCa ca) throws Exception {
        RedisServer r = RedisServer.startWithTls(dir.resolve("redis"), ca.issue("localhost"),
                "admin-secret", ACL);
        closeAfter.add(r);
        return r;
    }

    @Test
    void aRelayUsesTlsAndItsAclUser() throws Exception {
        TestCa ca = TestCa.create("shared cache CA");
        RedisServer redis = tlsServer(ca);
        Path password = Files.writeString(dir.resolve("password"), "fleet-secret\n");
        SharedCache c = client(redis.tlsUri(), Optional.of("fleet"), Optional.of(password),
                Optional.of(ca.writePem(dir.resolve("ca.pem"))), Duration.ofSeconds(5));
        assertTrue(c.awaitUp(Duration.ofSeconds(20)), "reached over TLS as user fleet");
        long until = System.currentTimeMillis() + 60_000;
        c.putDane(new StoredDane("tls.test", "result text", until)).get(10, TimeUnit.SECONDS);
        assertEquals(Optional.of(new StoredDane("tls.test", "result text", until)),
                c.dane("tls.test").get(10, TimeUnit.SECONDS));
        assertNotNull(redis.command("GET", "tlspolicy:dane:tls.test"));
        long ttl = Long.parseLong(redis.command("PTTL", "tlspolicy:dane:tls.test"));
        assertTrue(ttl > 0 && ttl <= 60_000, "expires on the server with its validity: " + ttl);
        assertEquals(SharedTier.Lease.ACQUIRED, c.lease("tls.test").get(10, TimeUnit.SECONDS));
    }

    @Test
    void aServerWhoseCertificateAnotherCaSignedIsNeverUsed() throws Exception {
        RedisServer redis = tlsServer(TestCa.create("the server's CA"));
        Path password = Files.writeString(dir.resolve("password"), "fleet-secret\n");
        TestCa other = TestCa.create("a CA the relay trusts");
        SharedCache c = client(redis.tlsUri(), Optional.of("fleet"), Optional.of(password),
                Optional.of(other.writePem(dir.resolve("other.pem"))), Duration.ofSeconds(5));
        assertTrue(!c.awaitUp(Duration.ofSeconds(3)), "strict PKIX: no connection");
        c.putDane(new StoredDane("x.test", "r", System.currentTimeMillis() + 60_000))
                .get(10, TimeUnit.SECONDS);
        assertEquals(Optional.empty(), c.dane("x.test").get(10, TimeUnit.SECONDS));
        assertEquals(SharedTier.Lease.UNAVAILABLE, c.lease("x.test").get(10, TimeUnit.SECONDS));
        assertEquals("0", redis.command("DBSIZE"));
    }

    @Test
    void aWrongPasswordLeavesTheTierOut() throws Exception {
        TestCa ca = TestCa.create("shared cache CA");
        RedisServer redis = tlsServer(ca);
        Path password = Files.writeString(dir.resolve("password"), "not-the-password\n");
        SharedCache c = client(redis.tlsUri(), Optional.of("fleet"), Optional.of(password),
                Optional.of(ca.writePem(dir.resolve("ca.pem"))), Duration.ofSeconds(5));
        assertTrue(!c.awaitUp(Duration.ofSeconds(3)));
        assertEquals(SharedTier.Lease.UNAVAILABLE, c.lease("x.test").get(10, TimeUnit.SECONDS));
        assertEquals("0", redis.command("DBSIZE"));
    }

    @Test
    void aLeaseIsHeldByOneRelayReleasedOnlyByItAndLapses() throws Exception {
        RedisServer redis = RedisServer.start(dir.resolve("plain"));
        closeAfter.add(redis);
        SharedCache a = client(redis.uri(), Optional.empty(), Optional.empty(), Optional.empty(),
                Duration.ofSeconds(30));
        SharedCache b = client(redis.uri(), Optional.empty(), Optional.empty(), Optional.empty(),
                Duration.ofMillis(400));
        assertTrue(a.awaitUp(Duration.ofSeconds(10)) && b.awaitUp(Duration.ofSeconds(10)));
        assertEquals(SharedTier.Lease.ACQUIRED, a.lease("l.test").get(10, TimeUnit.SECONDS));
        assertEquals(SharedTier.Lease.HELD_ELSEWHERE, b.lease("l.test").get(10, TimeUnit.SECONDS));
        b.release("l.test"); // not b's: left alone
        Thread.sleep(200);
        assertNotNull(redis.command("GET", "tlspolicy:lease:l.test"));
        a.release("l.test");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (redis.command("GET", "tlspolicy:lease:l.test") != null
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertNull(redis.command("GET", "tlspolicy:lease:l.test"));
        // b's lease lasts 400 ms: a relay that dies holding one holds nobody up for long.
        assertEquals(SharedTier.Lease.ACQUIRED, b.lease("l.test").get(10, TimeUnit.SECONDS));
        assertEquals(SharedTier.Lease.HELD_ELSEWHERE, a.lease("l.test").get(10, TimeUnit.SECONDS));
        Thread.sleep(600);
        assertEquals(SharedTier.Lease.ACQUIRED, a.lease("l.test").get(10, TimeUnit.SECONDS));
    }
}
