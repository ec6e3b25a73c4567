package org.tlspolicy.cache;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The persisted side of the policy cache: an embedded SQLite database, so that a restarted
 * daemon answers from the policies it had (RFC 8461 §10.2: a restart must not open a downgrade
 * window) and knows when each is due for refresh.
 *
 * <p>All work runs on one thread of its own, in submission order, never on a caller's. Writes
 * are committed in groups: whatever was queued while the last commit ran goes in the next one,
 * and a write's future completes only once its commit is on disk ({@code synchronous=FULL}), so
 * that a caller that waits for it (a reply that depends on a new policy) can never be undone by
 * a crash, even kill -9 or a power loss, while concurrent cold lookups share one fsync.
 *
 * <p>Losing the store costs restart-safety, never mail: a file that cannot be opened or is
 * corrupt is moved aside and a new one made; if even that fails, the store lives in memory. A
 * failed operation is logged and answers "nothing stored".
 */
public final class PolicyStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyStore.class);

    /** 1: sts_policy; 2: dane_result added (a version-1 file is upgraded in place). */
    private static final int SCHEMA_VERSION = 2;

    /** Writes committed in one transaction, at most. */
    private static final int MAX_BATCH = 1000;

    private final ExecutorService thread;
    private final Connection db;
    private final String where;
    private final ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainQueued = new AtomicBoolean();

    /** One queued write and its caller's future (true once committed). */
    private record Write(String what, Work<Boolean> work, CompletableFuture<Boolean> done) {
    }

    private PolicyStore(Connection db, String where, ExecutorService thread) {
        this.db = db;
        this.where = where;
        this.thread = thread;
    }

    /**
     * Opens (creating if needed) the store at {@code file}, or an in-memory store when empty.
     * Never fails: see the class comment.
     */
    public static PolicyStore open(Optional<Path> file) {
        ExecutorService thread = storeThread();
        if (file.isPresent()) {
            Path path = file.get();
            try {
                return new PolicyStore(openFile(path), path.toString(), thread);
            } catch (IOException | SQLException first) {
                log.warn("store path={} unusable ({}), moving it aside and starting empty",
                        path, first.getMessage());
                try {
                    moveAside(path);
                    return new PolicyStore(openFile(path), path.toString(), thread);
                } catch (IOException | SQLException second) {
                    log.error("store path={} cannot be created ({}): policies are kept in "
                            + "memory only and will not survive a restart", path,
                            second.getMessage());
                }
            }
        }
        try {
            Connection memory = DriverManager.getConnection("jdbc:sqlite::memory:");
            schema(memory);
            return new PolicyStore(memory, "memory", thread);
        } catch (SQLException e) {
            throw new IllegalStateException("SQLite unavailable: " + e.getMessage(), e);
        }
    }

    /** Opens an existing store for reading only (the query command); empty if there is none. */
    public static Optional<PolicyStore> openReadOnly(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + file + "?mode=ro");
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 5000");
            }
            return Optional.of(new PolicyStore(c, file.toString(), storeThread()));
        } catch (SQLException e) {
            log.warn("store path={} cannot be read: {}", file, e.getMessage());
            return Optional.empty();
        }
    }

    private static ExecutorService storeThread() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "policy-store");
            t.setDaemon(true);
            return t;
        });
    }

    private static Connection openFile(Path path) throws IOException, SQLException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + path);
        try {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 5000");
                // WAL: readers (the query command) never block the daemon's writes. FULL: a
                // commit is on disk when it returns (a reply waits for it); group commit keeps
                // that to one fsync per batch.
                s.execute("PRAGMA journal_mode = WAL");
                s.execute("PRAGMA synchronous = FULL");
                try (ResultSet r = s.executeQuery("PRAGMA quick_check")) {
                    String result = r.next() ? r.getString(1) : "no result";
                    if (!"ok".equals(result)) {
                        throw new SQLException("integrity check: " + result);
                    }
                }
            }
            schema(c);
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    private static void schema(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            int version;
            try (ResultSet r = s.executeQuery("PRAGMA user_version")) {
                version = r.next() ? r.getInt(1) : 0;
            }
            if (version > SCHEMA_VERSION) {
                throw new SQLException("store schema " + version + " is newer than this "
                        + "daemon's (" + SCHEMA_VERSION + ")");
            }
            s.execute("""
                    CREATE TABLE IF NOT EXISTS sts_policy (
                        domain     TEXT PRIMARY KEY,
                        txt_id     TEXT NOT NULL,
                        body       TEXT NOT NULL,
                        fetched_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        refresh_at INTEGER NOT NULL,
                        last_used  INTEGER NOT NULL
                    ) WITHOUT ROWID""");
            s.execute("CREATE INDEX IF NOT EXISTS sts_policy_refresh ON sts_policy(refresh_at)");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS dane_result (
                        domain      TEXT PRIMARY KEY,
                        result      TEXT NOT NULL,
                        valid_until INTEGER NOT NULL
                    ) WITHOUT ROWID""");
            s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
        }
    }

    private static void moveAside(Path path) throws IOException {
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            Path p = Path.of(path + suffix);
            if (Files.exists(p)) {
                Files.move(p, Path.of(path + suffix + ".corrupt-" + System.currentTimeMillis()),
                        StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** Where the store lives: a path, or "memory". */
    public String where() {
        return where;
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws SQLException;
    }

    private <T> CompletableFuture<T> submit(String what, T onFailure, Work<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    f.complete(work.run());
                } catch (SQLException | RuntimeException e) {
                    log.warn("store {} failed: {}", what, e.getMessage());
                    f.complete(onFailure);
                }
            });
        } catch (RuntimeException rejected) { // closed
            f.complete(onFailure);
        }
        return f;
    }

    /**
     * Queues a write for the next group commit; the future is true once it is committed, false
     * if it failed (logged) or the store is closed.
     */
    private CompletableFuture<Boolean> write(String what, Work<Boolean> work) {
        Write w = new Write(what, work, new CompletableFuture<>());
        writes.add(w);
        if (drainQueued.compareAndSet(false, true)) {
            try {
                thread.execute(this::commitWrites);
            } catch (RuntimeException rejected) { // closed
                drainQueued.set(false);
                for (Write left; (left = writes.poll()) != null; ) {
                    left.done().complete(false);
                }
            }
        }
        return w.done();
    }

    /** On the store thread: every queued write (up to a batch) in one transaction. */
    private void commitWrites() {
        drainQueued.set(false);
        List<Write> batch = new ArrayList<>();
        for (Write w; batch.size() < MAX_BATCH && (w = writes.poll()) != null; ) {
            batch.add(w);
        }
        if (!batch.isEmpty()) {
            List<Boolean> results = new ArrayList<>(batch.size());
            try {
                db.setAutoCommit(false);
                for (Write w : batch) {
                    results.add(w.work().run());
                }
                db.commit();
            } catch (SQLException | RuntimeException e) {
                results = null;
                rollbackQuietly();
            } finally {
                autoCommitQuietly();
            }
            if (results == null) {
                // One bad write must not sink the others: each again, alone.
                results = new ArrayList<>(batch.size());
                for (Write w : batch) {
                    try {
                        results.add(w.work().run());
                    } catch (SQLException | RuntimeException e) {
                        log.warn("store {} failed: {}", w.what(), e.getMessage());
                        results.add(false);
                    }
                }
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).done().complete(results.get(i));
            }
        }
        if (!writes.isEmpty() && drainQueued.compareAndSet(false, true)) {
            try {
                thread.execute(this::commitWrites);
            } catch (RuntimeException rejected) {
                drainQueued.set(false);
                for (Write left; (left = writes.poll()) != null; ) {
                    left.done().complete(false);
                }
            }
        }
    }

    private void rollbackQuietly() {
        try {
            db.rollback();
        } catch (SQLException e) {
            log.debug("store rollback failed: {}", e.getMessage());
        }
    }

    private void autoCommitQuietly() {
        try {
            db.setAutoCommit(true);
        } catch (SQLException e) {
            log.debug("store autocommit failed: {}", e.getMessage());
        }
    }

    public CompletableFuture<Optional<StoredPolicy>> get(String domain) {
        return submit("get", Optional.empty(), () -> {
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT * FROM sts_policy WHERE domain = ?")) {
                s.setString(1, domain);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? Optional.of(row(r)) : Optional.empty();
                }
            }
        });
    }

    /** Stores a policy; the future is true once it is committed (on disk). */
    public CompletableFuture<Boolean> put(StoredPolicy p) {
        return write("put", () -> {
            try (PreparedStatement s = db.prepareStatement("""
                    INSERT INTO sts_policy VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(domain) DO UPDATE SET txt_id = excluded.txt_id,
                        body = excluded.body, fetched_at = excluded.fetched_at,
                        expires_at = excluded.expires_at, refresh_at = excluded.refresh_at,
                        last_used = max(last_used, excluded.last_used)""")) {
                s.setString(1, p.domain());
                s.setString(2, p.id());
                s.setString(3, p.body());
                s.setLong(4, p.fetchedAt());
                s.setLong(5, p.expiresAt());
                s.setLong(6, p.refreshAt());
                s.setLong(7, p.lastUsed());
                s.executeUpdate();
                return true;
            }
        });
    }

    /** Records a use of the policy (for the refresher: only policies in use are refreshed). */
    public CompletableFuture<Boolean> touch(String domain, long usedAt) {
        return update("touch", "UPDATE sts_policy SET last_used = max(last_used, ?) "
                + "WHERE domain = ?", usedAt, domain);
    }

    /** Moves a policy's next refresh, e.g. after a failed attempt. */
    public CompletableFuture<Boolean> reschedule(String domain, long refreshAt) {
        return update("reschedule", "UPDATE sts_policy SET refresh_at = ? WHERE domain = ?",
                refreshAt, domain);
    }

    public CompletableFuture<Boolean> delete(String domain) {
        return write("delete", () -> {
            try (PreparedStatement s = db.prepareStatement(
                    "DELETE FROM sts_policy WHERE domain = ?")) {
                s.setString(1, domain);
                return s.executeUpdate() > 0;
            }
        });
    }

    private CompletableFuture<Boolean> update(String what, String sql, long value, String domain) {
        return write(what, () -> {
            try (PreparedStatement s = db.prepareStatement(sql)) {
                s.setLong(1, value);
                s.setString(2, domain);
                return s.executeUpdate() > 0;
            }
        });
    }

    /**
     * Policies due for refresh at {@code now} that were used since they were fetched (a policy
     * nobody needs is left to expire), earliest first, at most {@code limit}.
     */
    public CompletableFuture<List<StoredPolicy>> due(long now, int limit) {
        return submit("due", List.of(), () -> {
            try (PreparedStatement s = db.prepareStatement("""
                    SELECT * FROM sts_policy
                    WHERE refresh_at <= ? AND last_used >= fetched_at AND expires_at > ?
                    ORDER BY refresh_at LIMIT ?""")) {
                s.setLong(1, now);
                s.setLong(2, now);
                s.setInt(3, limit);
                List<StoredPolicy> out = new ArrayList<>();
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(row(r));
                    }
                }
                return out;
            }
        });
    }

    /** Deletes expired policies and DANE results; returns how many. */
    public CompletableFuture<Integer> deleteExpired(long now) {
        return submit("expire", 0, () -> {
            int n = 0;
            for (String sql : new String[] {"DELETE FROM sts_policy WHERE expires_at <= ?",
                    "DELETE FROM dane_result WHERE valid_until <= ?"}) {
                try (PreparedStatement s = db.prepareStatement(sql)) {
                    s.setLong(1, now);
                    n += s.executeUpdate();
                }
            }
            return n;
        });
    }

    /** The stored DANE result of {@code domain}, valid or not. */
    public CompletableFuture<Optional<StoredDane>> getDane(String domain) {
        return submit("get dane", Optional.empty(), () -> {
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT result, valid_until FROM dane_result WHERE domain = ?")) {
                s.setString(1, domain);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? Optional.of(new StoredDane(domain, r.getString(1),
                            r.getLong(2))) : Optional.empty();
                }
            }
        });
    }

    /** Stores a DANE result; the future is true once it is committed (on disk). */
    public CompletableFuture<Boolean> putDane(StoredDane d) {
        return write("put dane", () -> {
            try (PreparedStatement s = db.prepareStatement("""
                    INSERT INTO dane_result VALUES (?, ?, ?)
                    ON CONFLICT(domain) DO UPDATE SET result = excluded.result,
                        valid_until = excluded.valid_until""")) {
                s.setString(1, d.domain());
                s.setString(2, d.result());
                s.setLong(3, d.validUntil());
                s.executeUpdate();
                return true;
            }
        });
    }

    public CompletableFuture<Long> count() {
        return submit("count", 0L, () -> {
            try (Statement s = db.createStatement();
                 ResultSet r = s.executeQuery("SELECT count(*) FROM sts_policy")) {
                return r.next() ? r.getLong(1) : 0L;
            }
        });
    }

    private static StoredPolicy row(ResultSet r) throws SQLException {
        return new StoredPolicy(r.getString("domain"), r.getString("txt_id"), r.getString("body"),
                r.getLong("fetched_at"), r.getLong("expires_at"), r.getLong("refresh_at"),
                r.getLong("last_used"));
    }

    /** Finishes queued work (bounded wait), then closes the database. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("store close: queued writes still running after 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            db.close();
        } catch (SQLException e) {
            log.warn("store close failed: {}", e.getMessage());
        }
    }
}
