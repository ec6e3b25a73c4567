package org.tlspolicy.tlsrpt.collect;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.tlspolicy.tlsrpt.policy.PolicySource;
import org.tlspolicy.tlsrpt.postfixlog.NextHops;
import org.tlspolicy.tlsrpt.postfixlog.SessionAssembler;
import org.tlspolicy.tlsrpt.postfixlog.SyslogLine;
import org.tlspolicy.tlsrpt.postfixlog.TlsSession;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads Postfix's lines from the systemd journal ({@code journalctl -o json}) into the store,
 * exactly once, as {@link Collector} does for a file. Positions are journal cursors: the cursor
 * of the first entry of the oldest session still open (read again, with {@code --cursor}, after
 * a restart) and of the last entry counted (sessions ending at or before it are not counted
 * again).
 *
 * <p>{@link #readToEnd} runs journalctl to the journal's current end; {@link #follow} keeps one
 * {@code journalctl --follow} running and commits whenever the journal is quiet. Only the SMTP
 * client's and queue manager's entries are asked for ({@code SYSLOG_IDENTIFIER} matches), and
 * of those only the ones Postfix's own processes wrote: {@code _UID} is the postfix user's.
 * {@code SYSLOG_IDENTIFIER} is whatever the writer says ({@code logger -t postfix/smtp} from
 * any local user); {@code _UID} is journald's, which no writer can set (systemd.journal-fields
 * (7), "trusted fields"), and smtp(8) and qmgr(8) always run as the postfix user (master.cf's
 * unprivileged services, main.cf {@code mail_owner}).
 */
public final class JournalCollector {

    /** Entries per batch (one transaction) at most. */
    static final int BATCH_ENTRIES = 50_000;

    private static final JsonFactory JSON = new JsonFactory();

    private final SessionStore store;
    private final PolicySource policies;
    private final Set<String> ownSenders;
    private final List<String> journalctl;
    private final List<String> identifiers;
    private final long postfixUid;
    private final NextHops nextHops;
    private final TlsLogging logging;

    /**
     * @param journalctl  the command and its journal selection, e.g. {@code [journalctl]} or
     *                    {@code [journalctl, --file=/path/x.journal]}
     * @param identifiers the {@code SYSLOG_IDENTIFIER}s to read, e.g. {@code postfix/smtp}
     * @param postfixUid  the postfix user's uid: only entries with this {@code _UID} count
     */
    public JournalCollector(SessionStore store, PolicySource policies, Set<String> ownSenders,
                            List<String> journalctl, List<String> identifiers,
                            long postfixUid) {
        this(store, policies, ownSenders, journalctl, identifiers, postfixUid,
                NextHops.MX_PORT_ONLY);
    }

    /** As above; sessions with {@code nextHops}' excluded hosts are not counted. */
    public JournalCollector(SessionStore store, PolicySource policies, Set<String> ownSenders,
                            List<String> journalctl, List<String> identifiers,
                            long postfixUid, NextHops nextHops) {
        this(store, policies, ownSenders, journalctl, identifiers, postfixUid, nextHops,
                TlsLogging.unchecked());
    }

    /** As above; nothing is counted while {@code logging} says Postfix logs no TLS. */
    public JournalCollector(SessionStore store, PolicySource policies, Set<String> ownSenders,
                            List<String> journalctl, List<String> identifiers,
                            long postfixUid, NextHops nextHops, TlsLogging logging) {
        this.logging = logging;
        this.postfixUid = postfixUid;
        this.nextHops = nextHops;
        this.store = store;
        this.policies = policies;
        this.ownSenders = Set.copyOf(ownSenders);
        this.journalctl = List.copyOf(journalctl);
        this.identifiers = List.copyOf(identifiers);
    }

    static final String SOURCE = "journal";

    /** Where reading stopped: cursors, and the time of the last counted entry. */
    record Position(String resume, String counted, long countedMicros) {

        String encode() {
            return "resume=" + resume + "\tcounted=" + counted + "\tts=" + countedMicros;
        }

        static Optional<Position> decode(String s) {
            String[] f = s.split("\t");
            if (f.length != 3 || !f[0].startsWith("resume=") || !f[1].startsWith("counted=")
                    || !f[2].startsWith("ts=")) {
                return Optional.empty();
            }
            try {
                return Optional.of(new Position(f[0].substring(7), f[1].substring(8),
                        Long.parseLong(f[2].substring(3))));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
    }

    /** One journal entry as a syslog line, with its cursor and time. */
    private record Entry(String cursor, long micros, SyslogLine line) {
    }

    /** Reads the journal from the stored position to its end; returns the entries read. */
    public long readToEnd() throws IOException, SQLException {
        Position from = store.position(SOURCE).flatMap(Position::decode).orElse(null);
        Process p = journalctl(from, false);
        Stderr err = new Stderr(p);
        Reading reading = new Reading(from);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String json; (json = r.readLine()) != null; ) {
                reading.accept(json);
            }
        } finally {
            stop(p);
        }
        if (p.exitValue() != 0 && reading.seq == 0) {
            throw new IOException("journalctl exited with " + p.exitValue() + err.text());
        }
        reading.commit();
        return reading.seq;
    }

    /**
     * Follows the journal ({@code journalctl --follow}) from the stored position, committing
     * whenever no entry has come for {@code idleMillis} or a batch is full; returns when
     * interrupted, after committing what it has. A failure (journalctl gone, policy server
     * unreachable) is logged once per kind, and reading starts again from the stored
     * position after {@code idleMillis}.
     */
    public void follow(long idleMillis) {
        Following.follow(SOURCE, () -> followOnce(idleMillis), idleMillis, store);
    }

    private static final String END = new String("end of journalctl output");

    private long followOnce(long idleMillis) throws IOException, SQLException {
        // journalctl --follow shows the current boot only (systemd 252): catch up first, so
        // that what an earlier boot logged after the stored position is read too.
        long caughtUp = readToEnd();
        Position from = store.position(SOURCE).flatMap(Position::decode).orElse(null);
        Process p = journalctl(from, true);
        Stderr err = new Stderr(p);
        BlockingQueue<String> lines = new ArrayBlockingQueue<>(10_000);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(
                    p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String json; (json = r.readLine()) != null; ) {
                    lines.put(json);
                }
            } catch (IOException | InterruptedException e) {
                // journalctl stopped, or we are stopping
            } finally {
                lines.offer(END);
            }
        }, "journalctl-reader");
        reader.setDaemon(true);
        reader.start();
        Reading reading = new Reading(from);
        try {
            while (true) {
                String json;
                try {
                    json = lines.poll(idleMillis, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    reading.commit();
                    return caughtUp + reading.seq;
                }
                if (json == null) {
                    reading.commit(); // idle: commit what there is
                } else if (json == END) {
                    reading.commit();
                    if (caughtUp + reading.seq > 0) {
                        return caughtUp + reading.seq; // read again at once
                    }
                    throw new IOException("journalctl --follow ended (exit "
                            + (p.isAlive() ? "?" : p.exitValue()) + ")" + err.text());
                } else {
                    reading.accept(json);
                }
            }
        } finally {
            stop(p);
            reader.interrupt();
        }
    }

    private Process journalctl(Position from, boolean follow) throws IOException {
        List<String> command = new ArrayList<>(journalctl);
        command.addAll(List.of("-o", "json", "--no-pager", "--output-fields="
                + "MESSAGE,SYSLOG_IDENTIFIER,_PID,SYSLOG_PID,_HOSTNAME"));
        if (follow) {
            command.addAll(List.of("--follow", "--no-tail"));
        }
        if (from != null) {
            command.add("--cursor=" + from.resume());
        }
        for (String id : identifiers) {
            command.add("SYSLOG_IDENTIFIER=" + id);
        }
        // A match on another field: ANDed with the identifiers (journalctl(1), "MATCHES").
        command.add("_UID=" + postfixUid);
        return new ProcessBuilder(command).start();
    }

    /**
     * What journalctl says on its standard error, kept (the first 2 KiB) to name why it
     * stopped ("Failed to get boot id: …"), read on a thread of its own so that it can never
     * block journalctl.
     */
    private static final class Stderr {
        private final StringBuffer text = new StringBuffer();
        private final Thread reader;

        Stderr(Process p) {
            reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(
                        p.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        if (text.length() < 2048) {
                            text.append(text.length() > 0 ? "; " : "").append(line.strip());
                        }
                    }
                } catch (IOException e) {
                    // journalctl is gone
                }
            }, "journalctl-stderr");
            reader.setDaemon(true);
            reader.start();
        }

        /** {@code ": WHAT JOURNALCTL SAID"}, or "" if it said nothing. */
        String text() {
            try {
                reader.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return text.length() == 0 ? "" : ": " + text;
        }
    }

    private static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One reading of the journal from a stored position: entries into sessions into counts,
     * and the positions to commit with them.
     */
    private final class Reading {
        private final Position from;
        private final List<TlsSession> ended = new ArrayList<>();
        private final SessionAssembler assembler = new SessionAssembler(ended::add, nextHops);
        private final SessionCounter counter = new SessionCounter(policies, ownSenders, logging);
        // Sequence number (in this reading) → cursor, for entries from the oldest open on.
        private final TreeMap<Long, String> cursors = new TreeMap<>();
        private boolean counting;
        private long droppedBefore;
        private String lastCursor;
        private long lastMicros;
        long seq;
        private long batch;

        Reading(Position from) {
            this.from = from;
            this.counting = from == null;
            this.lastCursor = from == null ? null : from.counted();
            this.lastMicros = from == null ? 0 : from.countedMicros();
        }

        void accept(String json) throws IOException, SQLException {
            Optional<Entry> e = entry(json);
            if (e.isEmpty()) {
                return;
            }
            Entry entry = e.get();
            seq++;
            batch++;
            cursors.put(seq, entry.cursor());
            assembler.accept(entry.line(), seq);
            if (!counting && entry.cursor().equals(from.counted())) {
                // The last entry an earlier reading counted: what ends after it is counted.
                counting = true;
            } else if (!counting && entry.micros() > from.countedMicros()) {
                // Past it in time (that entry may be gone from the journal): count.
                counting = true;
                countEnded(entry);
            } else if (counting) {
                countEnded(entry);
            }
            ended.clear();
            if (batch >= BATCH_ENTRIES) {
                commit();
            }
        }

        private void countEnded(Entry entry) throws IOException {
            for (TlsSession s : ended) {
                counter.count(s);
            }
            lastCursor = entry.cursor();
            lastMicros = entry.micros();
        }

        void commit() throws SQLException {
            logging.report(store, SOURCE);
            if (batch == 0 || lastCursor == null) {
                return; // nothing new, or nothing past the earlier reading yet
            }
            long open = assembler.openSince();
            // Read again from the oldest open session's first entry; with none open, from the
            // last entry (--cursor is inclusive: it is replayed, not counted twice, being at
            // or before the counted cursor).
            String resume = open == Long.MAX_VALUE ? cursors.get(seq) : cursors.get(open);
            if (resume == null) {
                resume = from != null ? from.resume() : cursors.get(seq);
            }
            cursors.headMap(Math.min(open, seq)).clear();
            store.add(counter.drain(), SOURCE, new Position(resume, lastCursor, lastMicros)
                    .encode());
            store.read(SOURCE, Instant.ofEpochSecond(lastMicros / 1_000_000,
                    (lastMicros % 1_000_000) * 1000), Instant.now(),
                    assembler.dropped() + counter.uncounted() - droppedBefore);
            droppedBefore = assembler.dropped() + counter.uncounted();
            batch = 0;
        }
    }

    /** The entry in one line of {@code journalctl -o json}, if it is a usable one. */
    static Optional<Entry> entry(String json) throws IOException {
        String cursor = null;
        String message = null;
        String identifier = null;
        String host = "";
        long pid = -1;
        long micros = -1;
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return Optional.empty();
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                String value = null;
                if (t == JsonToken.VALUE_STRING) {
                    value = p.getText();
                } else if (t == JsonToken.START_ARRAY) {
                    // A field that is not valid UTF-8 comes as an array of byte values.
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    while (p.nextToken() == JsonToken.VALUE_NUMBER_INT) {
                        b.write(p.getIntValue());
                    }
                    value = b.toString(StandardCharsets.UTF_8);
                } else {
                    p.skipChildren();
                }
                if (value == null) {
                    continue;
                }
                switch (name) {
                    case "__CURSOR" -> cursor = value;
                    case "__REALTIME_TIMESTAMP" -> micros = parseLong(value);
                    case "MESSAGE" -> message = value;
                    case "SYSLOG_IDENTIFIER" -> identifier = value;
                    case "_HOSTNAME" -> host = value;
                    case "_PID" -> pid = parseLong(value);
                    case "SYSLOG_PID" -> pid = pid < 0 ? parseLong(value) : pid;
                    default -> { }
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return Optional.empty();
        }
        if (cursor == null || message == null || identifier == null || pid < 0 || micros < 0) {
            return Optional.empty();
        }
        Instant time = Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000);
        return Optional.of(new Entry(cursor, micros, new SyslogLine(time, host, identifier, pid,
                message)));
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

}
