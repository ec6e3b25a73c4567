package org.tlspolicy.tlsrpt.collect;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.tlsrpt.policy.PolicySource;
import org.tlspolicy.tlsrpt.postfixlog.SessionAssembler;
import org.tlspolicy.tlsrpt.postfixlog.SyslogLine;
import org.tlspolicy.tlsrpt.postfixlog.TlsSession;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.SessionClassifier;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reads Postfix's log file into the store: lines → sessions → each classified under the
 * policy tlspolicyd applies to its domain → counts, committed in batches together with the
 * read position ({@link LogPosition}), so that a collector killed at any point and started
 * again counts every session exactly once.
 *
 * <p>Sessions of the report mail itself (envelope sender one of {@code ownSenders}) are not
 * counted: a failing report must not report on itself (RFC 8460 §3, no report loops).
 */
public final class Collector {

    private static final Logger log = LoggerFactory.getLogger(Collector.class);

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
        Map<Key, Long> counts = new LinkedHashMap<>();
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
                    Instant now = clock.get();
                    SyslogLine.parse(line.text(), now, zone).ifPresent(
                            l -> assembler.accept(l, line.start()));
                    if (line.end() > counted) {
                        for (TlsSession s : ended) {
                            count(s, counts);
                        }
                    }
                    ended.clear();
                }
                if (line == null || batchLines >= BATCH_LINES) {
                    long end = in.offset();
                    long resume = Math.min(assembler.openSince(), end);
                    long countedTo = Math.max(end, counted);
                    if (batchLines > 0 || from == null) {
                        store.add(rows(counts), source, new LogPosition(inode, resume,
                                countedTo).encode());
                        from = new LogPosition(inode, resume, countedTo);
                    }
                    counts.clear();
                    batchLines = 0;
                    if (line == null) {
                        return lines;
                    }
                }
            }
        }
    }

    private record Key(LocalDate day, AppliedPolicy policy, SessionResult result, String mxHost,
                       String mxIp) {
    }

    private void count(TlsSession s, Map<Key, Long> counts) throws IOException {
        if (ownSenders.contains(s.sender().toLowerCase(Locale.ROOT))) {
            return;
        }
        AppliedPolicy policy = policies.policy(s.domain());
        SessionClassifier.classify(s.facts(), policy).ifPresent(result -> {
            LocalDate day = s.time().atZone(ZoneOffset.UTC).toLocalDate();
            Key k = result instanceof SessionResult.Failure
                    ? new Key(day, policy, result, s.mx().host(), s.mx().ip())
                    : new Key(day, policy, result, "", "");
            counts.merge(k, 1L, Long::sum);
        });
    }

    private static List<SessionCount> rows(Map<Key, Long> counts) {
        List<SessionCount> rows = new ArrayList<>(counts.size());
        counts.forEach((k, n) -> rows.add(new SessionCount(k.day(), k.policy(), k.result(),
                k.mxHost(), k.mxIp(), n)));
        return rows;
    }

    /**
     * Reads {@code file} for ever: to its end, then again every {@code pollMillis}; a failure
     * (policy server unreachable, file missing) is logged once per kind and retried, the
     * position kept. Returns when interrupted.
     */
    public void follow(Path file, long pollMillis) {
        String lastProblem = null;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                long n = readToEnd(file);
                if (lastProblem != null) {
                    log.info("collect file={} resumed", file);
                    lastProblem = null;
                }
                if (n > 0) {
                    log.debug("collect file={} lines={}", file, n);
                }
            } catch (IOException | SQLException e) {
                String problem = e.getClass().getSimpleName() + ": " + e.getMessage();
                if (!problem.equals(lastProblem)) {
                    log.warn("collect file={} waiting: {}", file, problem);
                    lastProblem = problem;
                }
            }
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
