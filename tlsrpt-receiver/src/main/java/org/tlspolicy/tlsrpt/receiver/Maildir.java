package org.tlspolicy.tlsrpt.receiver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Report mail delivered to a Maildir (maildir(5)): every message is taken once. A message in
 * {@code new/}, or in {@code cur/} without the Seen flag, is ingested; once its batch is
 * committed to the store it is marked Seen (moved to {@code cur/NAME:2,S}, flags kept). Killed
 * between the commit and the mark, it is read again and found a duplicate: taken once all the
 * same. Batches of {@value #BATCH} mails share one commit. A spool (Postfix's pipe queues
 * there) has its mails removed instead of marked, once committed.
 */
public final class Maildir {

    private static final Logger log = LoggerFactory.getLogger(Maildir.class);

    /** Mails per transaction. */
    static final int BATCH = 500;

    /** Threads preparing mails (reading, parsing, verifying) at once. */
    static final int PREPARERS = Math.max(2, Runtime.getRuntime().availableProcessors()) * 2;

    private final Path dir;
    private final boolean delete;

    public Maildir(Path dir) {
        this(dir, false);
    }

    /** A Maildir whose mails are removed, not marked Seen, once stored ({@code delete}). */
    public Maildir(Path dir, boolean delete) {
        this.dir = dir;
        this.delete = delete;
    }

    /** What one pass came to. */
    public record Tally(long stored, long duplicate, long rejected) {
        Tally plus(Ingest.Outcome o) {
            return switch (o.word()) {
                case "stored" -> new Tally(stored + 1, duplicate, rejected);
                case "duplicate" -> new Tally(stored, duplicate + 1, rejected);
                default -> new Tally(stored, duplicate, rejected + 1);
            };
        }

        long total() {
            return stored + duplicate + rejected;
        }
    }

    /**
     * Takes every message not taken yet. A batch's mails are read, parsed and verified on
     * {@link #PREPARERS} threads at once (the MIME walk and DKIM are most of the work, and a
     * DKIM key may wait on the DNS), then stored one by one in file order, and committed.
     */
    public Tally takeAll(Ingest ingest, ReceivedStore store) throws IOException, SQLException {
        Files.createDirectories(dir.resolve("cur"));
        Tally tally = new Tally(0, 0, 0);
        List<Path> pending = pending();
        ExecutorService preparers = Executors.newFixedThreadPool(PREPARERS, r -> {
            Thread t = new Thread(r, "ingest-prepare");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int from = 0; from < pending.size(); from += BATCH) {
                List<Path> files = pending.subList(from, Math.min(pending.size(), from + BATCH));
                List<Future<Optional<Ingest.Prepared>>> prepared = new ArrayList<>();
                for (Path p : files) {
                    prepared.add(preparers.submit(() -> {
                        try {
                            return Optional.of(ingest.prepare(Files.readAllBytes(p)));
                        } catch (NoSuchFileException gone) {
                            return Optional.empty(); // taken by another reader meanwhile
                        }
                    }));
                }
                List<Path> batch = new ArrayList<>(BATCH);
                for (int i = 0; i < files.size(); i++) {
                    Optional<Ingest.Prepared> p = result(prepared.get(i));
                    if (p.isPresent()) {
                        tally = tally.plus(ingest.take(p.get()));
                        batch.add(files.get(i));
                    }
                }
                settle(store, batch);
            }
        } finally {
            preparers.shutdownNow();
        }
        if (tally.total() > 0) {
            log.info("maildir dir={} stored={} duplicate={} rejected={}", dir, tally.stored(),
                    tally.duplicate(), tally.rejected());
        }
        return tally;
    }

    /** Takes new messages as they come, every {@code pollMillis}, until interrupted. */
    public void watch(Ingest ingest, ReceivedStore store, long pollMillis)
            throws IOException, SQLException {
        while (!Thread.currentThread().isInterrupted()) {
            takeAll(ingest, store);
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Optional<Ingest.Prepared> result(Future<Optional<Ingest.Prepared>> f)
            throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private List<Path> pending() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String sub : List.of("new", "cur")) {
            Path d = dir.resolve(sub);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> files = Files.list(d)) {
                files.filter(Files::isRegularFile)
                        .filter(f -> !f.getFileName().toString().startsWith("."))
                        .filter(f -> sub.equals("new") || !seen(f))
                        .sorted()
                        .forEach(out::add);
            }
        }
        return out;
    }

    /** Whether the file's maildir info ({@code :2,FLAGS}) has S. */
    private static boolean seen(Path f) {
        String n = f.getFileName().toString();
        int info = n.indexOf(":2,");
        return info >= 0 && n.indexOf('S', info + 3) >= 0;
    }

    private void settle(ReceivedStore store, List<Path> batch) throws IOException, SQLException {
        if (batch.isEmpty()) {
            return;
        }
        store.commit();
        for (Path p : batch) {
            if (delete) {
                Files.deleteIfExists(p);
                continue;
            }
            String n = p.getFileName().toString();
            int info = n.indexOf(":2,");
            String base = info >= 0 ? n.substring(0, info) : n;
            String flags = info >= 0 ? n.substring(info + 3) : "";
            try {
                Files.move(p, dir.resolve("cur").resolve(base + ":2," + sortedFlags(flags
                        + "S")), StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException gone) {
                // moved by another reader: it is stored, that is what counts
            }
        }
        batch.clear();
    }

    private static String sortedFlags(String flags) {
        return flags.chars().distinct().sorted().collect(StringBuilder::new,
                StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
