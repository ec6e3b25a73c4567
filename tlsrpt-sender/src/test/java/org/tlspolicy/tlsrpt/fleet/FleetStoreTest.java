package org.tlspolicy.tlsrpt.fleet;

import org.tlspolicy.postgres.PostgresTarget;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.PostgresServer;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fleet's TLS-RPT store on a real PostgreSQL (Debian's, a cluster made for the test):
 * three relays' local stores forward their counts, which are summed exactly once, also when
 * a batch is sent again after a crash and when PostgreSQL is restarted mid-collect; a day
 * waits for relays that have not forwarded past its end; relays starting together apply the
 * schema once.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FleetStoreTest {

    static final LocalDate DAY = LocalDate.of(2026, 11, 28);
    static PostgresServer postgres;
    static final AtomicInteger databases = new AtomicInteger();

    @TempDir
    Path dir;
    PostgresTarget settings;

    @BeforeAll
    static void start() throws Exception {
        postgres = PostgresServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    /** A database of its own for each test. */
    @BeforeEach
    void database() throws Exception {
        String name = "fleet" + databases.incrementAndGet();
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        settings = new PostgresTarget(postgres.uri().replace("/postgres", "/" + name),
                "postgres", Optional.empty());
    }

    static SessionCount count(String domain, String mxHost, long n) {
        AppliedPolicy p = new AppliedPolicy(PolicyType.STS, domain,
                List.of("version: STSv1", "mode: enforce", "mx: *." + domain, "max_age: 86400"),
                List.of("*." + domain));
        SessionResult r = mxHost.isEmpty() ? new SessionResult.Success()
                : new SessionResult.Failure(ResultType.CERTIFICATE_EXPIRED, "certificate expired");
        return new SessionCount(DAY, domain, p, r, mxHost.isEmpty() ? "" : "192.0.2.1", mxHost,
                "", mxHost.isEmpty() ? "" : "198.51.100.7", n);
    }

    /** The fleet store's total for {@code domain} on DAY. */
    long total(String domain) throws Exception {
        try (FleetStore f = FleetStore.open(settings)) {
            return f.counts(DAY, domain).stream().mapToLong(SessionCount::count).sum();
        }
    }

    Forwarder forwarder(Path store, String relay) {
        return new Forwarder(store, settings, relay, Clock.systemUTC());
    }

    @Test
    void threeRelaysCountsAreSummedExactlyOnce() throws Exception {
        List<Path> stores = new ArrayList<>();
        for (int r = 1; r <= 3; r++) {
            Path file = dir.resolve("relay" + r + ".db");
            stores.add(file);
            try (SessionStore s = SessionStore.openForFleet(file)) {
                s.add(List.of(count("a.test", "", 10L * r), count("a.test", "mx.a.test", r),
                        count("r" + r + ".test", "", 5)), "log", "pos" + r);
            }
        }
        for (int r = 1; r <= 3; r++) {
            try (Forwarder f = forwarder(stores.get(r - 1), "relay" + r)) {
                assertTrue(f.forwardOnce());
            }
        }
        assertEquals(60 + 6, total("a.test"));
        try (FleetStore f = FleetStore.open(settings)) {
            assertEquals(List.of("a.test", "r1.test", "r2.test", "r3.test"), f.domains(DAY));
            List<SessionCount> failures = f.counts(DAY, "a.test").stream()
                    .filter(c -> c.result() instanceof SessionResult.Failure).toList();
            assertEquals(1, failures.size(), "one row: the same key from three relays");
            assertEquals(6, failures.get(0).count());
            assertEquals(count("a.test", "mx.a.test", 6), failures.get(0));
        }

        // A relay killed after the fleet store committed a batch and before it dropped it
        // here sends the batch again: nothing is added twice.
        Path file = dir.resolve("crash.db");
        List<SessionStore.Outboxed> batch;
        String relay;
        try (SessionStore s = SessionStore.openForFleet(file)) {
            s.add(List.of(count("a.test", "", 100)), "log", "x");
            batch = s.outbox(100);
            relay = "crash/" + s.fleetId();
        }
        try (FleetStore f = FleetStore.open(settings)) {
            assertEquals(batch.get(0).seq(), f.forward(relay, batch, Instant.now(),
                    Optional.empty()));
        }
        assertEquals(166, total("a.test"));
        try (Forwarder f = forwarder(file, "crash")) { // the restarted relay's forwarder
            assertTrue(f.forwardOnce());
        }
        assertEquals(166, total("a.test"), "the batch sent again added nothing");
        try (SessionStore s = SessionStore.openForFleet(file)) {
            assertEquals(List.of(), s.outbox(100), "and it is gone from the outbox");
        }
    }

    @Test
    void postgresRestartedMidCollectLosesNothingAndDoublesNothing() throws Exception {
        Path file = dir.resolve("relay.db");
        try (SessionStore s = SessionStore.openForFleet(file);
             Forwarder f = forwarder(file, "relay")) {
            s.add(List.of(count("b.test", "", 7)), "log", "1");
            assertTrue(f.forwardOnce());
            postgres.stop();
            try {
                s.add(List.of(count("b.test", "", 11)), "log", "2"); // counting goes on
                assertFalse(f.forwardOnce(), "PostgreSQL is down");
                s.add(List.of(count("b.test", "", 13)), "log", "3");
                assertEquals(2, s.outbox(100).size(), "the counts wait in the outbox");
            } finally {
                postgres.restart();
            }
            assertTrue(f.forwardOnce());
            assertEquals(List.of(), s.outbox(100));
            assertTrue(f.forwardOnce());
        }
        assertEquals(7 + 11 + 13, total("b.test"));
        try (SessionStore s = SessionStore.open(file)) {
            assertEquals(31, s.counts(DAY, "b.test").get(0).count(), "and the local store too");
        }
    }

    /**
     * The local store failing (here: locked by another writer for longer than its busy
     * timeout, after the fleet store committed the batch) is the local store's trouble, not
     * PostgreSQL's: the fleet store stays "up", and the batch it has is not added twice when
     * the forwarder sends it again.
     */
    @Test
    void aLockedLocalStoreIsNotReportedAsTheFleetStoreDown() throws Exception {
        Path file = dir.resolve("relay.db");
        try (SessionStore s = SessionStore.openForFleet(file);
             Forwarder f = forwarder(file, "relay")) {
            s.add(List.of(count("c.test", "", 3)), "log", "1");
            assertTrue(f.forwardOnce());
            assertTrue(f.fleetStoreUp());
            s.add(List.of(count("c.test", "", 5)), "log", "2");
            try (Connection blocker = DriverManager.getConnection("jdbc:sqlite:" + file);
                 Statement b = blocker.createStatement()) {
                b.execute("BEGIN IMMEDIATE"); // the write lock, held past the busy timeout
                try {
                    assertFalse(f.forwardOnce(), "the outbox cannot be emptied");
                    assertTrue(f.localStoreDown());
                    assertTrue(f.fleetStoreUp(), "PostgreSQL answered all along");
                } finally {
                    b.execute("ROLLBACK");
                }
            }
            assertEquals(8, total("c.test"), "the batch reached the fleet store before");
            assertTrue(f.forwardOnce(), "sent again once the lock is gone");
            assertFalse(f.localStoreDown());
            assertEquals(List.of(), s.outbox(100));
        }
        assertEquals(8, total("c.test"), "and was not added twice");
    }

    @Test
    void aDayWaitsForRelaysThatHaveNotForwardedPastItsEnd() throws Exception {
        Instant end = DAY.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant now = end.plusSeconds(3600);
        try (FleetStore f = FleetStore.open(settings)) {
            f.forward("early/1", List.of(), end.minusSeconds(60),
                    Optional.of(end.minusSeconds(60)));
            f.forward("late/2", List.of(), now, Optional.of(now));
            Optional<String> waiting = f.incomplete(DAY, now);
            assertTrue(waiting.isPresent() && waiting.get().contains("early/1")
                    && !waiting.get().contains("late/2"), waiting.toString());
            f.forward("early/1", List.of(), now, Optional.of(now));
            assertEquals(Optional.empty(), f.incomplete(DAY, now));
            f.forward("stuck/3", List.of(), now, Optional.of(end));
            assertTrue(f.incomplete(DAY, now).isPresent(), "5 min past the end, not just the end");
            assertEquals(Optional.empty(), f.incomplete(DAY,
                    end.plusSeconds(FleetStore.WAIT_HOURS * 3600L + 1)), "waited long enough");
        }
    }

    @Test
    void relaysStartingTogetherApplyTheSchemaOnce() throws Exception {
        List<CompletableFuture<Void>> opens = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            opens.add(CompletableFuture.runAsync(() -> {
                try (FleetStore f = FleetStore.open(settings)) {
                    f.domains(DAY);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
        }
        for (CompletableFuture<Void> o : opens) {
            o.get(60, TimeUnit.SECONDS);
        }
        try (Connection c = DriverManager.getConnection(settings.jdbcUrl(), "postgres", "");
             Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*), max(version) FROM schema_version")) {
            r.next();
            assertEquals(1, r.getInt(1));
            assertEquals(Schema.VERSION, r.getInt(2));
        }
    }

    @Test
    void collectWithFleetForwardsFromTheCommandLine() throws Exception {
        Path log = java.nio.file.Files.writeString(dir.resolve("mail.log"), "");
        java.io.StringWriter out = new java.io.StringWriter();
        int code = org.tlspolicy.tlsrpt.cli.Main.run(new String[] {"--store",
            dir.resolve("cli.db").toString(), "collect", "--once", "--log", log.toString(),
            "--fleet", settings.uri(), "--fleet-user", "postgres", "--relay", "cli-relay"},
                new java.io.PrintWriter(out), new java.io.PrintWriter(out));
        assertEquals(0, code, out.toString());
        String id;
        try (SessionStore s = SessionStore.open(dir.resolve("cli.db"))) {
            id = s.fleetId();
        }
        try (Connection c = DriverManager.getConnection(settings.jdbcUrl(), "postgres", "");
             Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT relay, drained_at IS NOT NULL "
                     + "FROM relay_progress")) {
            assertTrue(r.next(), "the collector's forwarder reached the fleet store");
            assertEquals("cli-relay/" + id, r.getString(1));
            assertTrue(r.getBoolean(2));
        }
    }
}
