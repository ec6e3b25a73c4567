package org.tlspolicy.cache;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /**
     * A commit is in the WAL when its future completes, and in the database file proper (a
     * checkpoint, which fsyncs both) soon after ({@link PolicyStore#SYNC_MILLIS}; the test
     * allows 10 s for a loaded machine), with no further write to push it: the power-loss
     * window is bounded.
     */
    @Test
    void aCommitIsCheckpointedIntoTheDatabaseFileSoonAfter(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cache.db");
        try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
            String probe = "checkpoint-probe.example";
            long committed = System.nanoTime();
            assertTrue(s.put(policy(probe, 1000, 5000, 1000)).get());
            assertTrue(Files.readString(Path.of(file + "-wal"),
                    java.nio.charset.StandardCharsets.ISO_8859_1).contains(probe));
            assertFalse(Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .contains(probe), "not checkpointed at once: that is the fsync left out of "
                    + "the reply's path");
            long deadline = committed + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (!Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .contains(probe)) {
                assertTrue(System.nanoTime() < deadline, "no checkpoint within 10 s");
                Thread.sleep(20);
            }
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

    // --- Faults of the filesystem under the store (issue 17): real mounts, as root ---------

    private static void sh(String command) throws Exception {
        Process p = new ProcessBuilder("sh", "-ec", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new AssertionError(command + ": " + out);
        }
    }

    private static String mode(Path p) throws Exception {
        return java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(p));
    }

    /** The file and its -wal and -shm list the domains the relay sends to: not for others. */
    @Test
    void theFilesAreOwnerAndGroupOnlyWhateverTheUmask(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cache.db");
        try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
            assertTrue(s.put(policy("a.example", 1000, 5000, 1000)).get());
            for (String name : new String[] {"cache.db", "cache.db-wal", "cache.db-shm"}) {
                assertEquals("rw-r-----", mode(dir.resolve(name)), name);
            }
        }
        // One made before, world-readable, is tightened at the next start.
        Path old = dir.resolve("old.db");
        try (PolicyStore s = PolicyStore.open(Optional.of(old))) {
            s.put(policy("a.example", 1000, 5000, 1000)).get();
        }
        Files.setPosixFilePermissions(old,
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
        try (PolicyStore s = PolicyStore.open(Optional.of(old))) {
            assertEquals("rw-r-----", mode(old));
            assertEquals(Optional.of(policy("a.example", 1000, 5000, 1000)),
                    s.get("a.example").get());
        }
    }

    /**
     * A valid store on a filesystem remounted read-only (ext4 errors=remount-ro), here a
     * read-only bind mount: it is read and served from, never moved aside; writes are held and
     * written once the filesystem is writable again. Also with a -wal left by a crash.
     */
    @Test
    void aStoreOnAReadOnlyFilesystemIsServedAndHealsWhenWritable(@TempDir Path dir)
            throws Exception {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path mounted = Files.createDirectories(dir.resolve("mounted"));
        // A store left by a crash: its data still in the -wal.
        try (PolicyStore s = PolicyStore.open(Optional.of(real.resolve("work.db")))) {
            assertTrue(s.put(policy("a.example", 1000, 5000, 1000)).get());
            assertTrue(s.put(policy("b.example", 1000, 5000, 1000)).get());
            for (String suffix : new String[] {"", "-wal", "-shm"}) {
                Files.copy(real.resolve("work.db" + suffix), real.resolve("cache.db" + suffix));
            }
        }
        sh("mount --bind " + real + " " + mounted + " && mount -o remount,ro,bind " + mounted);
        try {
            try (PolicyStore s = PolicyStore.open(Optional.of(mounted.resolve("cache.db")),
                    java.time.Duration.ofMillis(200))) {
                assertEquals(PolicyStore.Mode.READ_ONLY, s.mode());
                assertEquals(Optional.of(policy("a.example", 1000, 5000, 1000)),
                        s.get("a.example").get(), "the -wal's data is read");
                assertEquals(0, s.writable());
                assertEquals(1, s.problems().size(), s.problems().toString());
                assertTrue(s.problems().get(0).contains("not writable"), s.problems().toString());
                assertEquals(false, s.put(policy("c.example", 1000, 5000, 1000)).get());
                waitFor(() -> s.heldWrites() == 1);
                try (var files = Files.list(real)) {
                    assertTrue(files.noneMatch(f -> f.toString().contains("corrupt")),
                            "a readable store is never moved aside");
                }
                sh("mount -o remount,rw,bind " + mounted);
                waitFor(() -> s.writable() == 1);
                assertEquals(PolicyStore.Mode.WRITABLE, s.mode());
                assertEquals(0, s.heldWrites());
                assertEquals(List.of(), s.problems());
                assertEquals(Optional.of(policy("c.example", 1000, 5000, 1000)),
                        s.get("c.example").get(), "the held write was written");
                assertTrue(s.put(policy("d.example", 1000, 5000, 1000)).get());
            }
        } finally {
            sh("umount " + mounted + " || umount -l " + mounted);
        }
    }

    /**
     * A full disk: at start the store is read and served (not moved aside); while running,
     * writes fail, are held and counted, and are written once there is room again.
     */
    @Test
    void aFullDiskLosesNothingItCanKeep(@TempDir Path dir) throws Exception {
        Path mounted = Files.createDirectories(dir.resolve("small"));
        sh("mount -t tmpfs -o size=2m tmpfs " + mounted);
        try {
            Path file = mounted.resolve("cache.db");
            try (PolicyStore s = PolicyStore.open(Optional.of(file))) {
                assertTrue(s.put(policy("a.example", 1000, 5000, 1000)).get());
            }
            sh("dd if=/dev/zero of=" + mounted.resolve("filler") + " bs=64k 2>/dev/null || true");
            try (PolicyStore s = PolicyStore.open(Optional.of(file),
                    java.time.Duration.ofMillis(200))) {
                assertEquals(Optional.of(policy("a.example", 1000, 5000, 1000)),
                        s.get("a.example").get(), "served at start on a full disk");
                for (int i = 0; i < 200; i++) {
                    s.put(policy("big" + i + ".example", 1000, 5000, 1000)).get();
                }
                assertEquals(0, s.writable());
                assertTrue(s.writeFailures() > 0);
                assertTrue(s.heldWrites() > 0);
                Files.delete(mounted.resolve("filler"));
                waitFor(() -> s.writable() == 1);
                assertEquals(0, s.heldWrites());
                assertEquals(201L, s.count().get(), "every held write written");
            }
            try (var files = Files.list(mounted)) {
                assertTrue(files.noneMatch(f -> f.toString().contains("corrupt")));
            }
        } finally {
            sh("umount " + mounted + " || umount -l " + mounted);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.sleep(50);
        }
    }
}
