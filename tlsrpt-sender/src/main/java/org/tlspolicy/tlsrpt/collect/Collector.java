package org.tlspolicy.tlsrpt.collect;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.tlsrpt.policy.PolicySource;
import org.tlspolicy.tlsrpt.postfixlog.JournalExportEntry;
import org.tlspolicy.tlsrpt.postfixlog.NextHops;
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

    private static final Logger log = LoggerFactory.getLogger(Collector.class);

    /** Lines per batch (one transaction) at most. */
    static final int BATCH_LINES = 50_000;

    /**
     * Lines of a new file after which sessions still open from the previous file are given
     * up: an SMTP client's delivery takes seconds, its lines are never this far apart.
     */
    static final int MAX_SPAN_LINES = 20_000;

    private final SessionStore store;
    private final PolicySource policies;
    private final Set<String> ownSenders;
    private final ZoneId zone;
    private final Supplier<Instant> clock;
    private final NextHops nextHops;
    private final TlsLogging logging;
    private long skipped;

    /**
     * @param ownSenders envelope senders of our own report mail, lower case
     * @param zone       the time zone of traditional syslog timestamps (they carry none)
     */
    public Collector(SessionStore store, PolicySource policies, Set<String> ownSenders,
                     ZoneId zone, Supplier<Instant> clock) {
        this(store, policies, ownSenders, zone, clock, NextHops.MX_PORT_ONLY);
    }

    /** As above; sessions with {@code nextHops}' excluded hosts are not counted. */
    public Collector(SessionStore store, PolicySource policies, Set<String> ownSenders,
                     ZoneId zone, Supplier<Instant> clock, NextHops nextHops) {
        this(store, policies, ownSenders, zone, clock, nextHops, TlsLogging.unchecked());
    }

    /** As above; nothing is counted while {@code logging} says Postfix logs no TLS. */
    public Collector(SessionStore store, PolicySource policies, Set<String> ownSenders,
                     ZoneId zone, Supplier<Instant> clock, NextHops nextHops,
                     TlsLogging logging) {
        this.logging = logging;
        this.nextHops = nextHops;
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
        // Issue 34, finding 6: a log others can write is a way to forge reports.
        java.util.Optional<String> untrusted = LogFileWriters.untrusted(file);
        if (untrusted.isPresent()) {
            throw new IOException("refused: " + untrusted.get() + "; lines a user can write "
                    + "would be reported and signed as this relay's");
        }
        LogPosition from = store.position(source).flatMap(LogPosition::decode).orElse(null);
        List<TlsSession> ended = new ArrayList<>();
        SessionAssembler assembler = new SessionAssembler(ended::add, nextHops);
        SyslogLine.Parser parser = new SyslogLine.Parser(zone);
        Instant now = clock.get();
        SessionCounter counter = new SessionCounter(policies, ownSenders, logging);
        long lines = 0;
        long batchLines = 0;
        long garbage = 0;
        long firstGarbage = -1;
        JournalExportEntry export = new JournalExportEntry();
        long exportStart = 0;
        Instant newest = null;
        try (LogFile in = LogFile.open(file, from)) {
            // Sessions ending at or before this were counted by an earlier run.
            long counted = in.resumed() ? from.counted() : -1;
            long generation = in.generation();
            long linesInFile = 0;
            boolean moved = false;
            // Lines of the previous file that sessions still open began with (see LogPosition).
            String carry = "";
            if (in.resumed() && !from.carry().isEmpty()) {
                for (String l : from.carry().split("\n")) {
                    parser.parse(l, now).ifPresent(sl -> assembler.accept(sl, -1));
                }
                ended.clear(); // sessions that ended there were counted when it was read
                assembler.newFile();
                carry = from.carry();
            }
            while (true) {
                LogFile.Line line = in.next();
                if (in.generation() != generation) {
                    // Another file (or the same, truncated): its offsets start again. Where the
                    // last one ended is committed first; the lines sessions still open began
                    // with there go with every position until they end (a rotation rarely
                    // falls between a session's first line and its outcome, but it does).
                    LogFile.Ended e = in.ended();
                    long resume = Math.min(assembler.openSince(), e.offset());
                    LogPosition at = new LogPosition(e.inode(), resume,
                            Math.max(e.offset(), counted), e.head(), carry);
                    store.add(counter.drain(), source, at.encode());
                    from = at;
                    String tail = resume < e.offset()
                            ? e.tail(resume, LogPosition.MAX_CARRY - carry.length()) : "";
                    assembler.newFile();
                    if (tail == null) {
                        assembler.forgetPreviousFile(); // too much, or its bytes are gone
                        carry = "";
                    } else {
                        carry = carried(carry + tail, assembler, parser, now);
                    }
                    if (export.open()) {
                        export.end(); // cut short by the rotation: not an entry
                    }
                    batchLines = 0;
                    generation = in.generation();
                    counted = -1;
                    linesInFile = 0;
                    moved = true; // committed below even if the new file has no lines yet
                }
                if (line != null) {
                    lines++;
                    batchLines++;
                    if (++linesInFile == MAX_SPAN_LINES) {
                        assembler.forgetPreviousFile(); // their outcome will not come now
                    }
                    String text = line.text();
                    if (JournalExportEntry.begins(text)) {
                        export.begin(); // journalctl -o export: entries of FIELD=value lines
                        exportStart = line.start();
                    } else if (export.open()) {
                        if (text.isEmpty()) {
                            long at = exportStart;
                            export.end().ifPresent(l -> assembler.accept(l, at));
                        } else {
                            export.field(text);
                        }
                    } else if (garbage(text)) {
                        // Not text a syslog daemon writes: never parsed, never counted.
                        if (garbage++ == 0) {
                            firstGarbage = line.start();
                        }
                    } else {
                        java.util.Optional<SyslogLine> l = parser.parse(text, now);
                        if (l.isPresent()) {
                            assembler.accept(l.get(), line.start());
                            newest = l.get().time();
                        }
                    }
                    if (line.end() > counted) {
                        for (TlsSession s : ended) {
                            counter.count(s);
                        }
                    }
                    ended.clear();
                }
                if (line == null || batchLines >= BATCH_LINES) {
                    if (!carry.isEmpty()) {
                        carry = carried(carry, assembler, parser, now);
                    }
                    long end = in.offset();
                    // An export entry begun and not yet ended is read again whole.
                    long resume = Math.min(assembler.openSince(),
                            export.open() ? exportStart : end);
                    long countedTo = Math.max(end, counted);
                    if (batchLines > 0 || from == null || moved) {
                        moved = false;
                        LogPosition at = new LogPosition(in.inode(), resume, countedTo,
                                in.head(), carry);
                        store.add(counter.drain(), source, at.encode());
                        from = at;
                    }
                    batchLines = 0;
                    now = clock.get();
                    if (line == null) {
                        if (lines > 0) {
                            store.read(source, newest, clock.get(),
                                    assembler.dropped() + counter.uncounted());
                        }
                        logging.report(store, source);
                        skipped += garbage + in.skipped();
                        if (garbage > 0 || in.skipped() > 0) {
                            log.warn("collect file={} skipped lines={} (not UTF-8 text, or a NUL "
                                    + "byte; first at offset {}) long_lines={} (over 256 KiB): "
                                    + "not counted", file, garbage, firstGarbage, in.skipped());
                        }
                        return lines;
                    }
                }
            }
        }
    }

    /**
     * The lines of {@code carry} that sessions still open from a previous file need: theirs,
     * and the queue manager's (which name their senders). Empty once every one has ended.
     */
    private static String carried(String carry, SessionAssembler assembler,
                                  SyslogLine.Parser parser, Instant now) {
        java.util.Set<Long> open = assembler.previousFilePids();
        if (open.isEmpty()) {
            return "";
        }
        StringBuilder kept = new StringBuilder();
        for (String l : carry.split("\n")) {
            parser.parse(l, now).filter(sl -> open.contains(sl.pid())
                    || sl.program().endsWith("/qmgr")).ifPresent(
                            sl -> kept.append(l).append('\n'));
        }
        return kept.toString();
    }

    /** Lines skipped as garbage or too long since this collector was made (logged too). */
    public long skipped() {
        return skipped;
    }

    /** A line no syslog daemon writes for Postfix: bytes that are not UTF-8, or a NUL. */
    static boolean garbage(String text) {
        return text.indexOf('\uFFFD') >= 0 || text.indexOf('\0') >= 0;
    }

    /** Reads {@code file} for ever (see {@link Following}); returns when interrupted. */
    public void follow(Path file, long pollMillis) {
        Following.follow(source(file), () -> readToEnd(file), pollMillis, store);
    }
}
