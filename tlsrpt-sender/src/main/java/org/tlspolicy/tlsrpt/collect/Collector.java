package org.tlspolicy.tlsrpt.collect;

import org.tlspolicy.tlsrpt.policy.PolicySource;
import org.tlspolicy.tlsrpt.postfixlog.SessionAssembler;
import org.tlspolicy.tlsrpt.postfixlog.SyslogLine;
import org.tlspolicy.tlsrpt.postfixlog.TlsSession;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reads Postfix's log file into the store: lines → sessions → each classified under the
 * policy tlspolicyd applies to its domain → counts, committed in batches together with the
 * read position ({@link LogPosition}), so that a collector killed at any point and started
 * again counts every session exactly once.
 *
 * <p>Sessions are counted by {@link SessionCounter} (which leaves out the report mail's own).
 */
public final class Collector {

    /** Lines per batch (one transaction) at most. */
    static final int BATCH_LINES = 50_000;

    private final SessionStore store;
    private final PolicySource policies;
    private final Set<String> ownSenders;
    private final ZoneId zone;
    private final Supplier<Instant> clock;

    /**
     * @param ownSenders envelope senders of our own report mail, lower case
     * @param zone       the time zone of traditional syslog timestamps (they carry none)
     */
    public Collector(SessionStore store, PolicySource policies, Set<String> ownSenders,
                     ZoneId zone, Supplier<Instant> clock) {
        this.store = store;
        this.policies = policies;
        this.ownSenders = Set.copyOf(ownSenders);
        this.zone = zone;
        this.clock = clock;
    }

    /** The store's source name of a log file. */
    static String source(Path file) {
        return "file:" + file.toAbsolutePath();
    }

    /**
     * Reads {@code file} from where the store says reading stopped to its current end,
     * committing every {@link #BATCH_LINES} lines and at the end; returns the lines read.
     *
     * @throws IOException  when the file cannot be read or a policy cannot be had: nothing
     *                      of the batch in hand is committed, the next run does it again
     */
    public long readToEnd(Path file) throws IOException, SQLException {
        String source = source(file);
        LogPosition from = store.position(source).flatMap(LogPosition::decode).orElse(null);
        List<TlsSession> ended = new ArrayList<>();
        SessionAssembler assembler = new SessionAssembler(ended::add);
        SyslogLine.Parser parser = new SyslogLine.Parser(zone);
        Instant now = clock.get();
        SessionCounter counter = new SessionCounter(policies, ownSenders);
        long lines = 0;
        long batchLines = 0;
        try (LogFile in = LogFile.open(file, from)) {
            // Sessions ending at or before this were counted by an earlier run.
            long counted = from != null && from.inode() == in.inode() ? from.counted() : -1;
            long inode = in.inode();
            while (true) {
                LogFile.Line line = in.next();
                if (line != null && in.inode() != inode) {
                    // A new file: its offsets start again; what was open in the old one is
                    // counted from here on as it ends.
                    inode = in.inode();
                    counted = -1;
                }
                if (line != null) {
                    lines++;
                    batchLines++;
                    parser.parse(line.text(), now).ifPresent(
                            l -> assembler.accept(l, line.start()));
                    if (line.end() > counted) {
                        for (TlsSession s : ended) {
                            counter.count(s);
                        }
                    }
                    ended.clear();
                }
                if (line == null || batchLines >= BATCH_LINES) {
                    long end = in.offset();
                    long resume = Math.min(assembler.openSince(), end);
                    long countedTo = Math.max(end, counted);
                    if (batchLines > 0 || from == null) {
                        store.add(counter.drain(), source, new LogPosition(inode, resume,
                                countedTo).encode());
                        from = new LogPosition(inode, resume, countedTo);
                    }
                    batchLines = 0;
                    now = clock.get();
                    if (line == null) {
                        return lines;
                    }
                }
            }
        }
    }

    /** Reads {@code file} for ever (see {@link Following}); returns when interrupted. */
    public void follow(Path file, long pollMillis) {
        Following.follow(source(file), () -> readToEnd(file), pollMillis);
    }
}
