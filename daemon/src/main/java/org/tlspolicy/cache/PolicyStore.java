package org.tlspolicy.cache;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.metrics.LogThrottle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The persisted side of the policy cache: an embedded SQLite database, so that a restarted
 * daemon answers from the policies it had (RFC 8461 §10.2: a restart must not open a downgrade
 * window) and knows when each is due for refresh.
 *
 * <p>All work runs on one thread of its own, in submission order, never on a caller's. Writes
 * are committed in groups: whatever was queued while the last commit ran goes in the next one,
 * and a write's future completes only once its commit is in the file (WAL, {@code
 * synchronous=NORMAL}: written to the kernel), so that a caller that waits for it (a reply that
 * depends on a new policy) can never be undone by a crash of the process, kill -9 included. The
 * fsync follows within {@value #SYNC_MILLIS} ms (a checkpoint), off the reply's path: a power
 * loss can take the policies learned in that last moment, which the next lookup then resolves
 * again, as for a domain never seen. Why not an fsync before each reply ({@code FULL}): it was
 * 2–4 ms of every cold lookup on the bench's disk (issue 18, docs/performance.md).
 *
 * <p>A readable store is always read. A file is moved aside only when SQLite proves it corrupt
 * (its integrity check, or "not a database"), after what can still be read of it is copied into
 * the new one. A file that cannot be written (a filesystem remounted read-only, a full disk, a
 * permission) is opened read-only and served from; if it cannot even be read, the store lives
 * in memory. Either way writes that fail are held (the latest per domain, at most {@value
 * #MAX_HELD}) and tried again every {@value #RETRY_SECONDS} s with the file opened for writing
 * anew, so the store heals by itself once the disk does. Trouble is logged at ERROR, once, then
 * every ten minutes while it lasts; {@link #problems()} and the counters tell /health and
 * /metrics. The file and its -wal and -shm are readable by owner and group only: they list the
 * domains the relay sends to.
 */
public final class PolicyStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyStore.class);

    /** 1: sts_policy; 2: dane_result added (a version-1 file is upgraded in place). */
    private static final int SCHEMA_VERSION = 2;

    /** Writes committed in one transaction, at most. */
    private static final int MAX_BATCH = 1000;

    /** Failed writes held for retry, at most (the latest per domain). */
    static final int MAX_HELD = 100_000;

    /** How often a store in trouble tries to write again. */
    static final int RETRY_SECONDS = 10;

    /** Longest time a commit waits for its fsync (a WAL checkpoint). */
    static final int SYNC_MILLIS = 1000;

    /** SQLite's primary result codes that prove a file is no database (or a broken one). */
    private static final int SQLITE_CORRUPT = 11;
    private static final int SQLITE_NOTADB = 26;

    /** Owner read and write, group read: whatever the umask. */
    private static final Set<PosixFilePermission> FILE_MODE =
            PosixFilePermissions.fromString("rw-r-----");

    /** What the store can do now. */
    public enum Mode {
        /** Reads and writes go to the file. */
        WRITABLE,
        /** The file is read; writes are held and retried. */
        READ_ONLY,
        /** No file could be used: reads and writes go to memory (lost at a restart). */
        MEMORY
    }

    /** One queued write and its caller's future (true once committed). */
    private record Write(String what, String key, Work<Boolean> work,
                         CompletableFuture<Boolean> done) {
    }

    /** The file proved corrupt (as opposed to merely unusable for now). */
    private static final class Corrupt extends Exception {
        Corrupt(String message) {
            super(message, null, false, false);
        }
    }

    private final ScheduledExecutorService thread;
    private final Optional<Path> file;
    private final long retryMillis;
    private final ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainQueued = new AtomicBoolean();
    /** Failed writes by domain key, oldest first; store thread only. */
    private final LinkedHashMap<String, Write> held = new LinkedHashMap<>();
    private final AtomicLong writeFailures = new AtomicLong();
    private final AtomicLong corruptFiles = new AtomicLong();
    private final AtomicLong heldCount = new AtomicLong();
    private final LogThrottle troubleLog = new LogThrottle(10, TimeUnit.MINUTES);
    // The connection and mode change on the store thread only; volatile for the gauges.
    private volatile Connection db;
    private volatile Mode mode;
    private volatile String trouble = "";
    private volatile String notice = "";
    private boolean retryScheduled;
    private boolean syncScheduled;

    private PolicyStore(Connection db, Mode mode, Optional<Path> file,
                        ScheduledExecutorService thread, long retryMillis) {
        this.retryMillis = retryMillis;
        this.db = db;
        this.mode = mode;
        this.file = file;
        this.thread = thread;
    }

    /**
     * Opens (creating if needed) the store at {@code file}, or an in-memory store when empty.
     * Never fails: see the class comment.
     */
    public static PolicyStore open(Optional<Path> file) {
        return open(file, java.time.Duration.ofSeconds(RETRY_SECONDS));
    }

    /** As {@link #open(Optional)}, trying again after {@code retry} (tests use less). */
    static PolicyStore open(Optional<Path> file, java.time.Duration retry) {
        long retryMillis = retry.toMillis();
        ScheduledExecutorService thread = storeThread();
        if (file.isEmpty()) {
            return new PolicyStore(memoryDatabase(), Mode.MEMORY, file, thread, retryMillis);
        }
        Path path = file.get();
        try {
            return new PolicyStore(openWritable(path), Mode.WRITABLE, file, thread,
                    retryMillis);
        } catch (Corrupt corrupt) {
            return replaceCorrupt(path, corrupt.getMessage(), thread, retryMillis);
        } catch (IOException | SQLException unwritable) {
            String why = describe(unwritable);
            PolicyStore store;
            try {
                store = new PolicyStore(openReadable(path), Mode.READ_ONLY, file, thread,
                        retryMillis);
                log.error("store path={} cannot be written ({}): serving its policies "
                        + "read-only; new policies are kept in memory and written when it can "
                        + "be, tried every {} s; until then a restart loses them", path, why,
                        RETRY_SECONDS);
            } catch (IOException | SQLException unreadable) {
                log.error("store path={} can be neither written ({}) nor read ({}): policies "
                        + "are kept in memory only, and the file is tried every {} s", path,
                        why, describe(unreadable), RETRY_SECONDS);
                store = new PolicyStore(memoryDatabase(), Mode.MEMORY, file, thread, retryMillis);
            }
            store.startedInTrouble("store " + path + " not writable: " + why);
            return store;
        }
    }

    /**
     * A file SQLite proved corrupt: what can be read of it is copied into a new file, and the
     * bad one moved aside ({@code .corrupt-MILLIS}) for inspection.
     */
    private static PolicyStore replaceCorrupt(Path path, String why,
                                              ScheduledExecutorService thread,
                                              long retryMillis) {
        Map<String, List<Object[]>> rows = salvage(path);
        int salvaged = rows.values().stream().mapToInt(List::size).sum();
        try {
            Path aside = moveAside(path);
            Connection fresh = openWritable(path);
            copy(rows, fresh);
            log.error("store path={} is corrupt ({}): moved aside to {}, {} of its entries "
                    + "read back into a new file; the others are resolved again when needed",
                    path, why, aside, salvaged);
            PolicyStore store = new PolicyStore(fresh, Mode.WRITABLE, Optional.of(path), thread,
                    retryMillis);
            store.corruptFiles.incrementAndGet();
            store.notice = "store " + path + " was corrupt at start: moved aside to " + aside
                    + ", " + salvaged + " entries read back";
            return store;
        } catch (IOException | SQLException | Corrupt e) {
            log.error("store path={} is corrupt ({}) and no new one can be made ({}): policies "
                    + "are kept in memory only, and the file is tried every {} s", path, why,
                    e.getMessage(), RETRY_SECONDS);
            PolicyStore store = new PolicyStore(memoryDatabase(), Mode.MEMORY, Optional.of(path),
                    thread, retryMillis);
            store.corruptFiles.incrementAndGet();
            try {
                copy(rows, store.db);
            } catch (SQLException ignored) {
                // memory is as good as it gets
            }
            store.startedInTrouble("store " + path + " corrupt, and no new file: "
                    + e.getMessage());
            return store;
        }
    }

    /** Trouble found at start, already logged: retried, and not logged again at once. */
    private void startedInTrouble(String what) {
        trouble = what;
        troubleLog.permit();
        thread.execute(this::scheduleRetry);
    }

    /** Opens an existing store for reading only (the query command); empty if there is none. */
    public static Optional<PolicyStore> openReadOnly(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new PolicyStore(openReadable(file), Mode.READ_ONLY,
                    Optional.of(file), storeThread(), RETRY_SECONDS * 1000L));
        } catch (IOException | SQLException e) {
            log.warn("store path={} cannot be read: {}", file, e.getMessage());
            return Optional.empty();
        }
    }

    private static ScheduledExecutorService storeThread() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "policy-store");
            t.setDaemon(true);
            return t;
        });
        // A retry due in 30 s must not hold up a close.
        e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    private static Connection memoryDatabase() {
        try {
            Connection memory = DriverManager.getConnection("jdbc:sqlite::memory:");
            schema(memory);
            return memory;
        } catch (SQLException e) {
            throw new IllegalStateException("SQLite unavailable: " + e.getMessage(), e);
        }
    }

    /** The file opened for reading and writing, created owner/group-only if missing. */
    private static Connection openWritable(Path path) throws IOException, SQLException, Corrupt {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        restrict(path);
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + path);
        try {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 5000");
                check(s);
                // WAL: readers (the query command) never block the daemon's writes. NORMAL: a
                // commit is in the file, safe from a crash of the process, when it returns (a
                // reply waits for it); the fsync is the checkpoint's (scheduleSync).
                s.execute("PRAGMA journal_mode = WAL");
                s.execute("PRAGMA synchronous = NORMAL");
            }
            schema(c);
            // SQLite gives -wal and -shm the mode of the database file; tighten old ones.
            for (String suffix : new String[] {"-wal", "-shm"}) {
                Path p = Path.of(path + suffix);
                if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    restrict(p);
                }
            }
            return c;
        } catch (SQLException e) {
            c.close();
            if (e.getErrorCode() == SQLITE_CORRUPT || e.getErrorCode() == SQLITE_NOTADB) {
                throw new Corrupt(e.getMessage());
            }
            throw e;
        } catch (Corrupt e) {
            c.close();
            throw e;
        }
    }

    /**
     * The file opened read-only, with its WAL if one is there; a file whose directory cannot
     * take a -shm is opened immutable when no -wal holds data that would be missed.
     */
    private static Connection openReadable(Path path) throws IOException, SQLException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("no such file");
        }
        SQLException first;
        try {
            return readable("jdbc:sqlite:file:" + path + "?mode=ro");
        } catch (SQLException e) {
            first = e;
        }
        Path wal = Path.of(path + "-wal");
        if (Files.exists(wal) && Files.size(wal) > 0) {
            throw first;
        }
        return readable("jdbc:sqlite:file:" + path + "?mode=ro&immutable=1");
    }

    private static Connection readable(String url) throws SQLException {
        Connection c = DriverManager.getConnection(url);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 5000");
            try (ResultSet r = s.executeQuery("SELECT count(*) FROM sts_policy")) {
                r.next();
            }
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    private static void check(Statement s) throws SQLException, Corrupt {
        try (ResultSet r = s.executeQuery("PRAGMA quick_check")) {
            String result = r.next() ? r.getString(1) : "no result";
            if (!"ok".equals(result)) {
                throw new Corrupt("integrity check: " + result);
            }
        }
    }

    /** Owner read/write, group read, nothing for others: creates the file so if missing. */
    private static void restrict(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            Files.createFile(p, PosixFilePermissions.asFileAttribute(FILE_MODE));
        }
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> wanted = EnumSet.copyOf(now);
        wanted.retainAll(FILE_MODE);
        if (!wanted.equals(now)) {
            Files.setPosixFilePermissions(p, wanted);
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
            // Always written: SQLite opens a file it may not write read-only without a word,
            // and this write is what finds out (a read-only filesystem, a full disk).
            s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
        }
    }

    /** Every row that can still be read of a corrupt file, by table; what cannot, is not. */
    private static Map<String, List<Object[]>> salvage(Path path) {
        Map<String, List<Object[]>> rows = new LinkedHashMap<>();
        for (String table : new String[] {"sts_policy", "dane_result"}) {
            List<Object[]> out = new ArrayList<>();
            rows.put(table, out);
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + path
                    + "?mode=ro&immutable=1");
                 Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT * FROM " + table)) {
                readRows(r, out);
            } catch (SQLException unreadableFromHere) {
                // keep the rows read before the damage
            }
        }
        return rows;
    }

    private static void copy(Map<String, List<Object[]>> rows, Connection c)
            throws SQLException {
        for (Map.Entry<String, List<Object[]>> t : rows.entrySet()) {
            if (t.getValue().isEmpty()) {
                continue;
            }
            int columns = t.getValue().get(0).length;
            String marks = String.join(", ", java.util.Collections.nCopies(columns, "?"));
            try (PreparedStatement p = c.prepareStatement("INSERT OR REPLACE INTO " + t.getKey()
                    + " VALUES (" + marks + ")")) {
                for (Object[] row : t.getValue()) {
                    for (int i = 0; i < columns; i++) {
                        p.setObject(i + 1, row[i]);
                    }
                    try {
                        p.executeUpdate();
                    } catch (SQLException badRow) {
                        // a row with damaged values is left behind
                    }
                }
            }
        }
    }

    private static Path moveAside(Path path) throws IOException {
        Path aside = Path.of(path + ".corrupt-" + System.currentTimeMillis());
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            Path p = Path.of(path + suffix);
            if (Files.exists(p)) {
                Files.move(p, Path.of(aside + suffix), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return aside;
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        return e instanceof IOException ? e.getClass().getSimpleName().replace("Exception", "")
                + (m == null ? "" : " " + m) : m;
    }

    /** Where the store lives: a path, or "memory". */
    public String where() {
        return mode == Mode.MEMORY ? "memory" : file.map(Path::toString).orElse("memory");
    }

    /** What the store can do now. */
    public Mode mode() {
        return mode;
    }

    /**
     * What stands between the store and restart-safety now (for /health): empty when it
     * writes to its file.
     */
    public List<String> problems() {
        List<String> out = new ArrayList<>();
        if (!trouble.isEmpty()) {
            out.add(trouble + " (" + heldCount.get() + " writes held)");
        }
        return out;
    }

    /** Something an operator should know that is over (a corrupt file replaced at start). */
    public Optional<String> notice() {
        return notice.isEmpty() ? Optional.empty() : Optional.of(notice);
    }

    /** 1 while writes reach the file, else 0 (a gauge). */
    public long writable() {
        return mode == Mode.WRITABLE && trouble.isEmpty() ? 1 : 0;
    }

    /** Writes that failed since start (a counter). */
    public long writeFailures() {
        return writeFailures.get();
    }

    /** Corrupt files moved aside since start (a counter). */
    public long corruptFiles() {
        return corruptFiles.get();
    }

    /** Writes held for retry now (a gauge). */
    public long heldWrites() {
        return heldCount.get();
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
                    log.debug("store {} failed: {}", what, e.getMessage());
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
     * if it failed (then, with a {@code key}, it is held and retried) or the store is closed.
     */
    private CompletableFuture<Boolean> write(String what, String key, Work<Boolean> work) {
        Write w = new Write(what, key, work, new CompletableFuture<>());
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
            if (mode == Mode.READ_ONLY) {
                for (Write w : batch) {
                    failed(w, "the store is read-only");
                }
            } else {
                commit(batch);
                scheduleSync();
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

    private void commit(List<Write> batch) {
        List<Boolean> results = new ArrayList<>(batch.size());
        String error = null;
        try {
            db.setAutoCommit(false);
            for (Write w : batch) {
                results.add(w.work().run());
            }
            db.commit();
        } catch (SQLException | RuntimeException e) {
            error = e.getMessage();
            rollbackQuietly();
        } finally {
            autoCommitQuietly();
        }
        if (error == null) {
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).done().complete(results.get(i));
            }
            return;
        }
        // One bad write must not sink the others: each again, alone.
        for (Write w : batch) {
            try {
                w.done().complete(w.work().run());
            } catch (SQLException | RuntimeException e) {
                failed(w, e.getMessage());
            }
        }
    }

    /**
     * On the store thread: a checkpoint within {@link #SYNC_MILLIS}, which fsyncs the WAL
     * (SQLite does that before every checkpoint under {@code synchronous=NORMAL}) and then the
     * database; commits made meanwhile share it.
     */
    private void scheduleSync() {
        if (syncScheduled || mode != Mode.WRITABLE) {
            return;
        }
        syncScheduled = true;
        try {
            thread.schedule(() -> {
                syncScheduled = false;
                try (Statement s = db.createStatement()) {
                    s.execute("PRAGMA wal_checkpoint(PASSIVE)");
                } catch (SQLException e) {
                    // The next commit schedules another; close() checkpoints too.
                    log.debug("store checkpoint failed: {}", e.getMessage());
                }
            }, SYNC_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RuntimeException rejected) { // closing: closing the file checkpoints it
            syncScheduled = false;
        }
    }

    /** A write that did not reach the file: counted, held for retry, logged once a while. */
    private void failed(Write w, String error) {
        writeFailures.incrementAndGet();
        if (w.key() != null) {
            held.remove(w.key());
            held.put(w.key(), w);
            if (held.size() > MAX_HELD) {
                held.remove(held.keySet().iterator().next());
            }
            heldCount.set(held.size());
        }
        w.done().complete(false);
        if (trouble.isEmpty()) {
            trouble = "store " + where() + " writes failing: " + error;
            log.error("store path={} write failed ({}): new policies are kept in memory and "
                    + "written when the store takes them, tried every {} s; until then a "
                    + "restart loses them", where(), error, RETRY_SECONDS);
            troubleLog.permit(); // the first line counts as this period's
        } else {
            long suppressed = troubleLog.permit();
            if (suppressed >= 0) {
                log.error("store path={} writes still failing ({}): failed={} held={}",
                        where(), error, writeFailures.get(), held.size());
            }
        }
        scheduleRetry();
    }

    private void scheduleRetry() {
        if (!retryScheduled) {
            retryScheduled = true;
            thread.schedule(this::retry, retryMillis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * On the store thread: the file opened for writing anew (read-only or memory mode), then
     * the held writes written; what still fails waits for the next try.
     */
    private void retry() {
        retryScheduled = false;
        if (file.isPresent()) {
            // A file that was writable may have failed for its connection's sake (a filesystem
            // remounted read-only under it): a fresh one, too. A read-only connection goes
            // first: SQLite shares a file's -shm among a process's connections, and one mapped
            // read-only keeps the others from writing.
            if (mode == Mode.READ_ONLY) {
                closeQuietly(db);
            }
            try {
                Connection writable = openWritable(file.get());
                if (mode == Mode.MEMORY) {
                    copy(allRows(db), writable);
                }
                Connection old = db;
                db = writable;
                Mode was = mode;
                mode = Mode.WRITABLE;
                if (was != Mode.READ_ONLY) {
                    closeQuietly(old);
                }
            } catch (IOException | SQLException | Corrupt e) {
                if (mode == Mode.READ_ONLY) {
                    try {
                        db = openReadable(file.get());
                    } catch (IOException | SQLException unreadable) {
                        // Readable a moment ago, no longer: memory, and the file tried again.
                        db = memoryDatabase();
                        mode = Mode.MEMORY;
                    }
                }
                if (mode != Mode.WRITABLE) {
                    scheduleRetry();
                    return;
                }
            }
        }
        List<Write> again = new ArrayList<>(held.values());
        held.clear();
        heldCount.set(0);
        List<Write> retried = new ArrayList<>();
        for (Write w : again) {
            retried.add(new Write(w.what(), w.key(), w.work(), new CompletableFuture<>()));
        }
        if (!retried.isEmpty()) {
            commit(retried);
        }
        scheduleSync(); // the rows copied from memory, if any, and the held writes
        if (held.isEmpty()) {
            log.info("store path={} writable again: {} held writes written, {} failed since "
                    + "start", where(), again.size(), writeFailures.get());
            trouble = "";
        }
    }

    private static Map<String, List<Object[]>> allRows(Connection c) throws SQLException {
        Map<String, List<Object[]>> rows = new LinkedHashMap<>();
        for (String table : new String[] {"sts_policy", "dane_result"}) {
            List<Object[]> out = new ArrayList<>();
            rows.put(table, out);
            try (Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT * FROM " + table)) {
                readRows(r, out);
            }
        }
        return rows;
    }

    /** Adds every row of {@code r} to {@code out}, as far as it can be read. */
    private static void readRows(ResultSet r, List<Object[]> out) throws SQLException {
        int columns = r.getMetaData().getColumnCount();
        while (r.next()) {
            Object[] row = new Object[columns];
            for (int i = 0; i < columns; i++) {
                row[i] = r.getObject(i + 1);
            }
            out.add(row);
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

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            log.debug("store close failed: {}", e.getMessage());
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
        return write("put", "sts:" + p.domain(), () -> {
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
        return write("delete", null, () -> {
            try (PreparedStatement s = db.prepareStatement(
                    "DELETE FROM sts_policy WHERE domain = ?")) {
                s.setString(1, domain);
                return s.executeUpdate() > 0;
            }
        });
    }

    private CompletableFuture<Boolean> update(String what, String sql, long value, String domain) {
        return write(what, null, () -> {
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
        CompletableFuture<Integer> deleted = new CompletableFuture<>();
        write("expire", null, () -> {
            int n = 0;
            for (String sql : new String[] {"DELETE FROM sts_policy WHERE expires_at <= ?",
                    "DELETE FROM dane_result WHERE valid_until <= ?"}) {
                try (PreparedStatement s = db.prepareStatement(sql)) {
                    s.setLong(1, now);
                    n += s.executeUpdate();
                }
            }
            deleted.complete(n);
            return true;
        }).thenAccept(ok -> deleted.complete(0));
        return deleted;
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

    /** Forgets the DANE result of {@code domain}; true if there was one. */
    public CompletableFuture<Boolean> deleteDane(String domain) {
        return write("delete dane", null, () -> {
            try (PreparedStatement s = db.prepareStatement(
                    "DELETE FROM dane_result WHERE domain = ?")) {
                s.setString(1, domain);
                return s.executeUpdate() > 0;
            }
        });
    }

    /**
     * Every domain with a row, valid or not, and what kind ({@code mta-sts} or {@code dane})
     * with its end of validity, by domain: for {@code tlspolicyd cache list}.
     */
    public CompletableFuture<List<StoredEntry>> entries() {
        return submit("list", List.of(), () -> {
            List<StoredEntry> out = new ArrayList<>();
            try (PreparedStatement s = db.prepareStatement("""
                    SELECT domain, 'mta-sts', expires_at FROM sts_policy
                    UNION ALL SELECT domain, 'dane', valid_until FROM dane_result
                    ORDER BY 1, 2""");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new StoredEntry(r.getString(1), r.getString(2), r.getLong(3)));
                }
            }
            return out;
        });
    }

    /** A row of {@link #entries()}: {@code kind} mta-sts or dane, valid until (epoch ms). */
    public record StoredEntry(String domain, String kind, long validUntil) {
    }

    /** Stores a DANE result; the future is true once it is committed (on disk). */
    public CompletableFuture<Boolean> putDane(StoredDane d) {
        return write("put dane", "dane:" + d.domain(), () -> {
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
        closeQuietly(db);
    }
}
