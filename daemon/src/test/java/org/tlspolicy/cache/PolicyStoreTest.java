package org.tlspolicy.cache;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SQLite store: persistence across opens, refresh selection, and surviving bad files. */
class PolicyStoreTest {

    static StoredPolicy policy(String domain, long fetched, long refresh, long used) {
        return new StoredPolicy(domain, "id1", "version: STSv1\nmode: enforce\nmx: mx." + domain
                + "\nmax_age: 86400\n", fetched, fetched + 86_400_000, refresh, used);
    }

    @Test
    void policiesSurviveReopening(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/dir/cache.db");
        try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
            assertEquals(file.toString(), s.where());
            assertTrue(s.put(policy("a.example", 1000, 5000, 1000)).get());
        }
        try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
            assertEquals(Optional.of(policy("a.example", 1000, 5000, 1000)),
                    s.get("a.example").get());
            assertEquals(Optional.empty(), s.get("b.example").get());
        }
    }

    /**
     * Writes from many threads at once are committed in groups, each future completing once
     * its write is committed (read by another connection to the file), in the order given.
     */
    @Test
    void concurrentWritesAreCommittedBeforeTheirFuturesComplete(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("cache.db");
        List<java.util.concurrent.CompletableFuture<Boolean>> puts =
                new java.util.concurrent.CopyOnWriteArrayList<>();
        try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
            List<Thread> threads = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int first = t * 100;
                Thread thread = new Thread(() -> {
                    for (int i = first; i < first + 100; i++) {
                        puts.add(s.put(policy("d" + i + ".example", 1000, 5000, 1000)));
                    }
                });
                thread.start();
                threads.add(thread);
            }
            for (Thread t : threads) {
                t.join();
            }
            for (java.util.concurrent.CompletableFuture<Boolean> f : puts) {
                assertTrue(f.get());
            }
            // Committed: a second connection, as after a crash, sees every one.
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(
                    "jdbc:sqlite:" + file);
                 java.sql.ResultSet r = c.createStatement().executeQuery(
                         "SELECT count(*) FROM sts_policy")) {
                assertEquals(800, r.getInt(1));
            }
            s.put(policy("x.example", 1000, 5000, 1000));
            assertTrue(s.delete("x.example").get(), "a delete after a put sees the put");
            assertEquals(Optional.empty(), s.get("x.example").get());
        }
    }

    @Test
    void dueSelectsUsedPoliciesEarliestFirstAndDeleteExpiredCleansUp(@TempDir Path dir)
            throws Exception {
        try (PolicyStore s = PolicyStore.open(Optional.of(dir.resolve("c.db")))) {
            s.put(policy("late.example", 1000, 9000, 1000));
            s.put(policy("early.example", 1000, 3000, 1000));
            s.put(policy("unused.example", 5000, 3000, 4000)); // not used since its fetch
            s.put(policy("notyet.example", 1000, 50_000, 1000));
            List<StoredPolicy> due = s.due(10_000, 10).get();
            assertEquals(List.of("early.example", "late.example"),
                    due.stream().map(StoredPolicy::domain).toList());
            assertEquals(1, s.due(10_000, 1).get().size());
            assertTrue(s.touch("unused.example", 6000).get());
            assertEquals(3, s.due(10_000, 10).get().size());
            assertTrue(s.reschedule("early.example", 20_000).get());
            assertEquals(List.of("unused.example", "late.example"),
                    s.due(10_000, 10).get().stream().map(StoredPolicy::domain).toList());
            assertEquals(3, s.deleteExpired(1000 + 86_400_000).get());
            assertEquals(1, s.deleteExpired(5000 + 86_400_000).get());
            assertEquals(0L, s.count().get());
        }
    }

    @Test
    void corruptFileIsMovedAsideAndANewStoreMade(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cache.db");
        byte[] garbage = new byte[8192];
        new java.util.Random(1).nextBytes(garbage);
        Files.write(file, garbage);
        try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
            assertEquals(file.toString(), s.where());
            assertTrue(s.put(policy("a.example", 1, 2, 1)).get());
            assertEquals(1L, s.count().get());
        }
        try (var files = Files.list(dir)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString()
                    .startsWith("cache.db.corrupt-")), "the bad file is kept for inspection");
        }
    }

    @Test
    void truncatedDatabaseIsMovedAsideToo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cache.db");
        try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
            for (int i = 0; i < 500; i++) {
                s.put(policy("d" + i + ".example", 1, 2, 1));
            }
            s.count().get();
        }
        byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, all.length / 2 + 100));
        try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
            assertTrue(s.put(policy("a.example", 1, 2, 1)).get());
            assertEquals(Optional.of(policy("a.example", 1, 2, 1)), s.get("a.example").get());
        }
    }

    @Test
    void unusablePathFallsBackToMemory(@TempDir Path dir) throws Exception {
        Path blocker = Files.writeString(dir.resolve("file"), "not a directory");
        try (PolicyStore s = PolicyStore.open(Optional.of(blocker.resolve("cache.db")))) {
            assertEquals("memory", s.where());
            assertTrue(s.put(policy("a.example", 1, 2, 1)).get());
            assertEquals(1L, s.count().get());
        }
    }

    @Test
    void readOnlyOpenSeesWhatTheDaemonWroteAndNothingWhenThereIsNoFile(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("cache.db");
        assertEquals(Optional.empty(), PolicyStore.openReadOnly(file));
        try (PolicyStore writer = PolicyStore.open(Optional.of(file))) {
            writer.put(policy("a.example", 1, 2, 1)).get();
            try (PolicyStore reader = PolicyStore.openReadOnly(file).orElseThrow()) {
                assertEquals("id1", reader.get("a.example").get().orElseThrow().id());
            }
        }
    }
}
