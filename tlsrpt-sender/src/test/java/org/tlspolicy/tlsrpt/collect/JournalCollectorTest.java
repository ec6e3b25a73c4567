package org.tlspolicy.tlsrpt.collect;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.postfixlog.SyslogLine;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal collector against real journal files: the fixtures' Postfix lines written as
 * journal entries by systemd's own systemd-journal-remote (Debian's systemd-journal-remote
 * package), a chunk at a time, and read by Debian's journalctl, with a new collector after
 * every chunk (as after a restart): the counts must equal those of the file collector reading
 * the same lines once.
 */
class JournalCollectorTest {

    private static final Path JOURNAL_REMOTE = Path.of("/lib/systemd/systemd-journal-remote");
    private static final LocalDate DAY = LocalDate.parse("2026-11-23");

    @TempDir
    Path dir;

    /**
     * Appends entries to the journal file (systemd-journal-remote appends to an existing one),
     * as of this boot (journalctl --follow shows the current boot only).
     */
    /** The uid Postfix's processes write as, in these journals. */
    private static final long POSTFIX_UID = 107;

    private void append(Path journal, List<SyslogLine> lines) throws Exception {
        append(journal, lines, POSTFIX_UID);
    }

    /** As above, the entries written by a process of user {@code uid} (journald's _UID). */
    private void append(Path journal, List<SyslogLine> lines, long uid) throws Exception {
        String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip()
                .replace("-", "");
        StringBuilder export = new StringBuilder();
        for (SyslogLine l : lines) {
            long micros = l.time().getEpochSecond() * 1_000_000 + l.time().getNano() / 1000;
            export.append("__REALTIME_TIMESTAMP=").append(micros).append('\n')
                    .append("_BOOT_ID=").append(boot).append('\n')
                    .append("_PID=").append(l.pid()).append('\n')
                    .append("_UID=").append(uid).append('\n')
                    .append("_HOSTNAME=").append(l.host()).append('\n')
                    .append("SYSLOG_IDENTIFIER=").append(l.program()).append('\n')
                    .append("MESSAGE=").append(l.message()).append("\n\n");
        }
        Process p = new ProcessBuilder(JOURNAL_REMOTE.toString(), "-o", journal.toString(), "-")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try (OutputStream out = p.getOutputStream()) {
            out.write(export.toString().getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
    }

    private static List<SyslogLine> fixtureEntries() throws Exception {
        List<SyslogLine> out = new ArrayList<>();
        // Entries need distinct times to keep their order in the journal: a microsecond apart.
        long n = 0;
        for (String l : CollectorTest.fixtureLines()) {
            SyslogLine s = SyslogLine.parse(l, Instant.parse("2026-12-01T00:00:00Z"),
                    ZoneOffset.UTC).orElseThrow();
            out.add(new SyslogLine(s.time().plusNanos(1000 * n++), s.host(), s.program(),
                    s.pid(), s.message()));
        }
        return out;
    }

    private JournalCollector collector(SessionStore store, Path journal) {
        return new JournalCollector(store, CollectorTest.POLICIES, Set.of(),
                List.of("journalctl", "--file=" + journal),
                List.of("postfix/smtp", "postfix/qmgr", "postfix/relay"), POSTFIX_UID);
    }

    @Test
    void journalReadInChunksWithRestartsCountsExactlyOnce() throws Exception {
        List<SyslogLine> entries = fixtureEntries();
        // The reference: the file collector over the same lines, once.
        Path file = dir.resolve("mail.log");
        Files.write(file, CollectorTest.fixtureLines());
        List<SessionCount> whole;
        try (SessionStore s = SessionStore.open(dir.resolve("file.db"))) {
            new Collector(s, CollectorTest.POLICIES, Set.of(), ZoneOffset.UTC,
                    () -> Instant.parse("2026-12-01T00:00:00Z")).readToEnd(file);
            whole = s.counts(DAY, null);
        }
        assertFalse(whole.isEmpty());
        for (long seed = 1; seed <= 3; seed++) {
            Random r = new Random(seed);
            Path journal = dir.resolve("postfix-" + seed + ".journal");
            Path db = dir.resolve("journal-" + seed + ".db");
            int at = 0;
            while (at < entries.size()) {
                int to = Math.min(entries.size(), at + 1 + r.nextInt(12));
                append(journal, entries.subList(at, to));
                at = to;
                try (SessionStore s = SessionStore.open(db)) {
                    collector(s, journal).readToEnd();
                }
            }
            try (SessionStore s = SessionStore.open(db)) {
                assertEquals(whole, s.counts(DAY, null), "seed " + seed);
                assertTrue(collector(s, journal).readToEnd() > 0, "replays from a cursor");
                assertEquals(whole, s.counts(DAY, null), "and counts nothing twice");
            }
        }
    }

    @Test
    void otherProgramsAreNotAskedFor() throws Exception {
        Path journal = dir.resolve("other.journal");
        List<SyslogLine> entries = new ArrayList<>();
        for (SyslogLine l : fixtureEntries()) {
            entries.add(new SyslogLine(l.time(), l.host(), "sshd", l.pid(), l.message()));
        }
        append(journal, entries);
        try (SessionStore s = SessionStore.open(dir.resolve("other.db"))) {
            assertEquals(0, collector(s, journal).readToEnd());
            assertEquals(List.of(), s.counts(DAY, null));
        }
    }

    /**
     * Issue 34, finding 6: {@code logger -t postfix/smtp …} from any local user writes entries
     * with Postfix's identifier but the user's _UID (journald's, not the writer's to choose):
     * none is counted, while the same lines from the postfix user are.
     */
    @Test
    void entriesWrittenByOtherUsersAreNotCounted() throws Exception {
        Path journal = dir.resolve("forged.journal");
        append(journal, fixtureEntries(), 1000);
        try (SessionStore s = SessionStore.open(dir.resolve("forged.db"))) {
            assertEquals(0, collector(s, journal).readToEnd());
            assertEquals(List.of(), s.counts(DAY, null));
        }
        append(journal, fixtureEntries().stream().map(l -> new SyslogLine(l.time()
                .plusSeconds(1), l.host(), l.program(), l.pid(), l.message())).toList());
        try (SessionStore s = SessionStore.open(dir.resolve("forged.db"))) {
            assertTrue(collector(s, journal).readToEnd() > 0);
            assertFalse(s.counts(DAY, null).isEmpty());
        }
    }

    /**
     * Issue 35, §1: when journalctl cannot run, the problem names journalctl's own words and
     * the store keeps it for {@code status}.
     */
    @Test
    void journalctlsOwnWordsAreTheProblem() throws Exception {
        Path db = dir.resolve("broken.db");
        try (SessionStore s = SessionStore.open(db); SessionStore peek = SessionStore.open(db)) {
            // The real journalctl, made to fail: it says why on its standard error.
            JournalCollector j = new JournalCollector(s, CollectorTest.POLICIES, Set.of(),
                    List.of("journalctl", "--no-such-option"), List.of("postfix/smtp"),
                    POSTFIX_UID);
            Thread follower = new Thread(() -> j.follow(200));
            follower.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String problem = "";
            while (problem.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
                problem = peek.health().stream().map(h -> h.problem()).findFirst().orElse("");
            }
            follower.interrupt();
            follower.join(15_000);
            assertTrue(problem.startsWith("journalctl exited with 1: journalctl: unrecognized "
                    + "option"), problem);
            assertFalse(problem.contains("IOException"), problem);
        }
    }

    @Test
    void followingCountsEntriesAsTheyArriveAndStopsCleanly() throws Exception {
        List<SyslogLine> entries = fixtureEntries();
        Path journal = dir.resolve("follow.journal");
        int half = entries.size() / 2;
        append(journal, entries.subList(0, half));
        Path db = dir.resolve("follow.db");
        List<SessionCount> whole;
        try (SessionStore s = SessionStore.open(dir.resolve("once.db"))) {
            Path all = dir.resolve("all.journal");
            append(all, entries);
            collector(s, all).readToEnd();
            whole = s.counts(DAY, null);
        }
        try (SessionStore s = SessionStore.open(db)) {
            Thread follower = new Thread(() -> collector(s, journal).follow(200));
            follower.start();
            append(journal, entries.subList(half, entries.size()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                Thread.sleep(200);
                try (SessionStore peek = SessionStore.open(db)) {
                    if (peek.counts(DAY, null).equals(whole)) {
                        break;
                    }
                }
            }
            follower.interrupt();
            follower.join(15_000);
            assertFalse(follower.isAlive(), "follow returns when interrupted");
        }
        try (SessionStore s = SessionStore.open(db)) {
            assertEquals(whole, s.counts(DAY, null));
        }
    }
}
