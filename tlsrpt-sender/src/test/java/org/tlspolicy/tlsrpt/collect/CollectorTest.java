package org.tlspolicy.tlsrpt.collect;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.policy.PolicySource;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The collector over real Postfix log lines (the end-to-end fixtures) written to a file bit by
 * bit, read by a new collector each time (as after a crash or restart): the counts must equal
 * those of one reading of the whole file, whatever the cut points, also across rotation.
 *
 * <p>Policies come from a fixed table standing in for tlspolicyd (the real one is asked in
 * the end-to-end suite).
 */
class CollectorTest {

    private static final Instant NOW = Instant.parse("2026-12-01T00:00:00Z");
    private static final LocalDate DAY = LocalDate.parse("2026-11-23");

    @TempDir
    Path dir;

    static final PolicySource POLICIES = domain -> domain.startsWith("sts-")
            || domain.equals("cached.test")
            ? new AppliedPolicy(PolicyType.STS, domain, List.of("version: STSv1", "mode: "
            + (domain.equals("sts-testing.test") ? "testing" : "enforce")), List.of("mx." + domain))
            : domain.startsWith("dane-") || domain.equals("both.test")
            ? new AppliedPolicy(PolicyType.TLSA, domain, List.of("3 1 1 00"), List.of())
            : AppliedPolicy.none(domain);

    static List<String> fixtureLines() throws Exception {
        Path fixtures = Path.of(CollectorTest.class.getResource("/postfix-logs/postfix-3.7")
                .toURI());
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(fixtures)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                Files.readAllLines(f).stream().filter(l -> !l.startsWith("#"))
                        .forEach(lines::add);
            }
        }
        return lines;
    }

    private Collector collector(SessionStore store) {
        return new Collector(store, POLICIES, Set.of("tlsrpt-noreply@sender.test"),
                ZoneOffset.UTC, () -> NOW);
    }

    private static void append(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    private List<SessionCount> oneReading(List<String> lines) throws Exception {
        Path file = dir.resolve("whole.log");
        Files.write(file, lines);
        try (SessionStore store = SessionStore.open(dir.resolve("whole.db"))) {
            collector(store).readToEnd(file);
            return store.counts(DAY, null);
        }
    }

    @Test
    void readingInPiecesWithRestartsCountsExactlyOnce() throws Exception {
        List<String> lines = fixtureLines();
        List<SessionCount> whole = oneReading(lines);
        assertFalse(whole.isEmpty());
        String text = String.join("\n", lines) + "\n";
        for (long seed = 1; seed <= 5; seed++) {
            Random r = new Random(seed);
            Path file = dir.resolve("mail-" + seed + ".log");
            Path db = dir.resolve("pieces-" + seed + ".db");
            int at = 0;
            while (at < text.length()) {
                // Cut anywhere, even inside a line (a line being written).
                int to = Math.min(text.length(), at + 1 + r.nextInt(400));
                append(file, text.substring(at, to));
                at = to;
                try (SessionStore store = SessionStore.open(db)) {
                    collector(store).readToEnd(file); // a new collector: as after a crash
                }
            }
            try (SessionStore store = SessionStore.open(db)) {
                assertEquals(whole, store.counts(DAY, null), "seed " + seed);
            }
        }
    }

    @Test
    void rotationLosesAndRepeatsNothing() throws Exception {
        List<String> lines = fixtureLines();
        List<SessionCount> whole = oneReading(lines);
        Path file = dir.resolve("mail.log");
        Path db = dir.resolve("rotated.db");
        int third = lines.size() / 3;
        Files.write(file, lines.subList(0, third));
        try (SessionStore store = SessionStore.open(db)) {
            collector(store).readToEnd(file);
        }
        // logrotate renames; Postfix writes a little more to the old file before it reopens.
        Files.move(file, dir.resolve("mail.log.1"));
        Files.write(dir.resolve("mail.log.1"), lines.subList(third, 2 * third),
                StandardOpenOption.APPEND);
        Files.write(file, lines.subList(2 * third, lines.size()));
        try (SessionStore store = SessionStore.open(db)) {
            collector(store).readToEnd(file); // restarted after the rotation
            assertEquals(whole, store.counts(DAY, null));
            assertEquals(0, collector(store).readToEnd(file), "nothing new");
        }
    }

    /**
     * While Postfix logs no TLS sessions (smtp_tls_loglevel = 0) a delivery with TLS reads
     * like one in the clear: nothing is counted, the sessions are counted as dropped, status
     * names the problem. Once Postfix logs them (checked again within a minute), counting
     * starts again with the lines that come after, and the problem clears.
     */
    @Test
    void nothingIsCountedWhilePostfixLogsNoTlsSessions() throws Exception {
        List<String> lines = fixtureLines();
        List<SessionCount> whole = oneReading(lines);
        long sessions = whole.stream().mapToLong(SessionCount::count).sum();
        // Every session the log holds, also those that would not count (a policy lookup
        // without a DNSSEC failure), except the report mail's own.
        long logged = org.tlspolicy.tlsrpt.postfixlog.SessionAssembler.assemble(lines, NOW,
                ZoneOffset.UTC).stream().filter(t -> !t.sender().equals(
                "tlsrpt-noreply@sender.test")).count();
        Path file = dir.resolve("mail.log");
        Files.write(file, lines);
        long droppedAnyway; // recipients whose domain is no host name
        try (SessionStore store = SessionStore.open(dir.resolve("plain.db"))) {
            collector(store).readToEnd(file);
            droppedAnyway = store.health().get(0).dropped();
        }
        String level = "Postfix does not log its TLS sessions (smtp/unix smtp_tls_loglevel = 0)";
        java.util.concurrent.atomic.AtomicReference<String> problem =
                new java.util.concurrent.atomic.AtomicReference<>(level);
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
        TlsLogging logging = new TlsLogging(() -> java.util.Optional.ofNullable(problem.get()),
                nanos::get);
        try (SessionStore store = SessionStore.open(dir.resolve("gate.db"))) {
            Collector c = new Collector(store, POLICIES, Set.of("tlsrpt-noreply@sender.test"),
                    ZoneOffset.UTC, () -> NOW,
                    org.tlspolicy.tlsrpt.postfixlog.NextHops.MX_PORT_ONLY, logging);
            c.readToEnd(file);
            assertEquals(List.of(), store.counts(DAY, null));
            var health = store.health().get(0);
            assertEquals("counting nothing: " + level, health.problem());
            assertEquals(logged + droppedAnyway, health.dropped());

            // Fixed: not seen before the next check, then the new lines count.
            problem.set(null);
            nanos.addAndGet(TlsLogging.RECHECK_NANOS);
            List<String> later = lines.stream().map(l -> l.replace("Nov 23", "Nov 24")).toList();
            Files.write(file, later, StandardOpenOption.APPEND);
            c.readToEnd(file);
            assertEquals("", store.health().get(0).problem());
            List<SessionCount> nextDay = store.counts(DAY.plusDays(1), null);
            assertEquals(sessions, nextDay.stream().mapToLong(SessionCount::count).sum());
            assertEquals(List.of(), store.counts(DAY, null));

            // Off again, then a restart after the fix: the new run clears what was stored.
            problem.set(level);
            nanos.addAndGet(TlsLogging.RECHECK_NANOS);
            c.readToEnd(file);
            assertEquals("counting nothing: " + level, store.health().get(0).problem());
            new Collector(store, POLICIES, Set.of(), ZoneOffset.UTC, () -> NOW,
                    org.tlspolicy.tlsrpt.postfixlog.NextHops.MX_PORT_ONLY,
                    new TlsLogging(java.util.Optional::empty, nanos::get)).readToEnd(file);
            assertEquals("", store.health().get(0).problem());
        }
    }

    @Test
    void ownReportMailIsNotCounted() throws Exception {
        List<String> lines = new ArrayList<>();
        for (String l : fixtureLines()) {
            lines.add(l.replace("from=<postmaster@sender.test>",
                    "from=<tlsrpt-noreply@sender.test>"));
        }
        assertEquals(List.of(), oneReading(lines));
    }

    @Test
    void anUnreachablePolicySourceCommitsNothing() throws Exception {
        Path file = dir.resolve("mail.log");
        Files.write(file, fixtureLines());
        try (SessionStore store = SessionStore.open(dir.resolve("down.db"))) {
            Collector down = new Collector(store, d -> {
                throw new IOException("policy server down");
            }, Set.of(), ZoneOffset.UTC, () -> NOW);
            assertThrows(IOException.class, () -> down.readToEnd(file));
            assertEquals(List.of(), store.counts(DAY, null));
            collector(store).readToEnd(file);
            assertEquals(oneReading(fixtureLines()), store.counts(DAY, null));
        }
    }

    /** The ways logrotate rotates a log, as configured on Debian and elsewhere. */
    enum Rotation {
        /** Renamed to NAME.1 (Debian's default rsyslog rotation). */
        RENAME,
        /** Renamed to NAME-DATE (dateext). */
        DATEEXT,
        /** Renamed, then compressed at once (compress without delaycompress). */
        DATEEXT_COMPRESSED,
        /** Copied to NAME.1, then truncated in place (copytruncate). */
        COPYTRUNCATE,
        /** Copied, the copy compressed at once, then truncated. */
        COPYTRUNCATE_COMPRESSED
    }

    private static int rotations;

    /**
     * Rotates {@code file} the {@code kind} way; {@code late} is what the writer still puts in
     * the old file after a rename (before it reopens the path). Older rotated files are
     * compressed on the way (delaycompress), as logrotate does on the next rotation.
     */
    private void rotate(Path file, Rotation kind, List<String> late) throws Exception {
        int n = ++rotations;
        for (Path old : siblingsOf(file)) {
            if (!old.toString().endsWith(".gz")) {
                gzip(old, Path.of(old + ".gz"));
                Files.delete(old);
            }
        }
        String date = String.format("%s-2026%04d", file.getFileName(), n);
        switch (kind) {
            case RENAME, DATEEXT, DATEEXT_COMPRESSED -> {
                Path to = file.resolveSibling(kind == Rotation.RENAME
                        ? file.getFileName() + ".1" : date);
                if (Files.exists(to)) {
                    Files.move(to, file.resolveSibling(to.getFileName() + "." + n));
                }
                Files.move(file, to);
                Files.write(to, late, StandardOpenOption.APPEND);
                if (kind == Rotation.DATEEXT_COMPRESSED) {
                    gzip(to, Path.of(to + ".gz"));
                    Files.delete(to);
                }
                Files.write(file, List.of());
            }
            case COPYTRUNCATE, COPYTRUNCATE_COMPRESSED -> {
                Files.write(file, late, StandardOpenOption.APPEND); // before the copy
                Path copy = file.resolveSibling(date);
                Files.copy(file, copy);
                if (kind == Rotation.COPYTRUNCATE_COMPRESSED) {
                    gzip(copy, Path.of(copy + ".gz"));
                    Files.delete(copy);
                }
                try (var ch = java.nio.channels.FileChannel.open(file,
                        StandardOpenOption.WRITE)) {
                    ch.truncate(0);
                }
            }
        }
    }

    private static List<Path> siblingsOf(Path file) throws IOException {
        try (Stream<Path> s = Files.list(file.getParent())) {
            return s.filter(p -> p.getFileName().toString().startsWith(
                    file.getFileName() + ".") || p.getFileName().toString().startsWith(
                    file.getFileName() + "-")).toList();
        }
    }

    private static void gzip(Path from, Path to) throws IOException {
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(to))) {
            Files.copy(from, out);
        }
    }

    /**
     * Each way of rotating, with the collector stopped across the rotation (a timer-driven
     * {@code collect --once}, or a restart): what the old file got after the last reading,
     * before and after the rotation, is read from wherever rotation put it, once.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Rotation.class)
    void everyKindOfRotationLosesAndRepeatsNothing(Rotation kind) throws Exception {
        List<String> lines = fixtureLines();
        List<SessionCount> whole = oneReading(lines);
        Path file = Files.createDirectories(dir.resolve(kind.name())).resolve("mail.log");
        Path db = dir.resolve(kind + ".db");
        int q = lines.size() / 4;
        Files.write(file, lines.subList(0, q));
        try (SessionStore store = SessionStore.open(db)) {
            collector(store).readToEnd(file);
        }
        Files.write(file, lines.subList(q, 2 * q), StandardOpenOption.APPEND);
        rotate(file, kind, lines.subList(2 * q, 3 * q));
        Files.write(file, lines.subList(3 * q, lines.size()), StandardOpenOption.APPEND);
        try (SessionStore store = SessionStore.open(db)) {
            collector(store).readToEnd(file);
            assertEquals(whole, store.counts(DAY, null), kind.name());
            assertEquals(0, collector(store).readToEnd(file), "nothing new");
        }
    }

    /**
     * copytruncate, and the truncated file written again past the old offset before the next
     * reading: its size does not show the truncation, its first bytes do.
     */
    @Test
    void aTruncatedFileWrittenPastTheOldOffsetIsReadFromItsStart() throws Exception {
        List<String> lines = fixtureLines();
        List<SessionCount> whole = oneReading(lines);
        Path file = Files.createDirectories(dir.resolve("regrown")).resolve("mail.log");
        Path db = dir.resolve("regrown.db");
        int half = lines.size() / 2;
        Files.write(file, lines.subList(0, half));
        try (SessionStore store = SessionStore.open(db)) {
            collector(store).readToEnd(file);
        }
        rotate(file, Rotation.COPYTRUNCATE, List.of());
        List<String> after = new ArrayList<>();
        long size = 2 * Files.size(siblingsOf(file).get(0)); // past where reading stopped
        for (int i = 0; after.stream().mapToLong(l -> l.length() + 1).sum() < size; i++) {
            after.add("Nov 23 12:00:00 relay kernel: filler line " + i);
        }
        after.addAll(lines.subList(half, lines.size()));
        Files.write(file, after, StandardOpenOption.APPEND);
        try (SessionStore store = SessionStore.open(db)) {
            collector(store).readToEnd(file);
            assertEquals(whole, store.counts(DAY, null));
        }
    }

    /**
     * A log grown bit by bit, read by a new collector each time, and rotated now and then (one
     * way per log, as one logrotate configuration does; between whole lines, as syslog writes;
     * older rotated files compressed on the way): the counts are those of one reading. The
     * collector reads between two rotations, and a file it last saw empty is not rotated
     * before it has seen some of it (a copy of a file it knows nothing of cannot be told from
     * any other: README, "Log rotation").
     */
    @Test
    void splittingAndRotatingNeverChangesTheCounts() throws Exception {
        List<String> lines = fixtureLines();
        List<SessionCount> whole = oneReading(lines);
        for (long seed = 1; seed <= 20; seed++) {
            Random r = new Random(seed);
            Rotation kind = Rotation.values()[(int) (seed % Rotation.values().length)];
            Path file = Files.createDirectories(dir.resolve("seed" + seed)).resolve("mail.log");
            Path db = dir.resolve("rotating-" + seed + ".db");
            List<String> done = new ArrayList<>();
            int at = 0;
            boolean seen = false; // the collector has read some of the current file
            while (at < lines.size()) {
                int to = Math.min(lines.size(), at + 1 + r.nextInt(40));
                Files.write(file, lines.subList(at, to), StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
                at = to;
                boolean rotated = false;
                if (seen && r.nextInt(3) == 0 && at < lines.size()) {
                    int late = Math.min(lines.size(), at + r.nextInt(10));
                    done.add(kind + "@" + at);
                    rotate(file, kind, lines.subList(at, late));
                    at = late;
                    rotated = true;
                }
                try (SessionStore store = SessionStore.open(db)) {
                    collector(store).readToEnd(file);
                }
                seen = !rotated || Files.size(file) > 0;
            }
            try (SessionStore store = SessionStore.open(db)) {
                List<SessionCount> got = store.counts(DAY, null);
                List<SessionCount> missing = new ArrayList<>(whole);
                missing.removeAll(got);
                List<SessionCount> extra = new ArrayList<>(got);
                extra.removeAll(whole);
                assertEquals(whole, got, "seed " + seed + ", rotations " + done
                        + "\nmissing: " + missing + "\nextra: " + extra);
            }
        }
    }

    /** Garbage and an over-long line are skipped and counted as skipped, never as sessions. */
    @Test
    void badBytesAreSkippedAndSaidNeverCounted() throws Exception {
        List<String> lines = fixtureLines();
        List<SessionCount> whole = oneReading(lines);
        Path file = dir.resolve("garbage.log");
        try (var out = Files.newOutputStream(file)) {
            for (int i = 0; i < lines.size(); i++) {
                out.write((lines.get(i) + "\n").getBytes(StandardCharsets.UTF_8));
                if (i % 50 == 7) {
                    byte[] junk = new byte[200];
                    new Random(i).nextBytes(junk);
                    for (int j = 0; j < junk.length; j++) {
                        junk[j] = junk[j] == '\n' ? 0 : junk[j];
                    }
                    junk[0] = (byte) 0xff; // never UTF-8
                    out.write(junk);
                    out.write('\n');
                }
                if (i == lines.size() / 2) {
                    // A megabyte line that mentions a delivery: not read as one.
                    out.write(("Nov 23 12:00:00 relay postfix/smtp[1]: " + "x".repeat(1 << 20)
                            + "\n").getBytes(StandardCharsets.US_ASCII));
                }
            }
        }
        try (SessionStore store = SessionStore.open(dir.resolve("garbage.db"))) {
            Collector c = collector(store);
            c.readToEnd(file);
            assertEquals(whole, store.counts(DAY, null));
            long junkLines = java.util.stream.IntStream.range(0, lines.size())
                    .filter(i -> i % 50 == 7).count();
            assertEquals(junkLines + 1, c.skipped());
        }
    }

    /**
     * A log saved in journald's export format ({@code journalctl -o export}), written in
     * random pieces (cut anywhere, even inside an entry) and read by a new collector each
     * time: the counts are those of the same lines as syslog text.
     */
    @Test
    void journalExportFormatCountsAsTheSyslogText() throws Exception {
        List<String> lines = fixtureLines();
        List<SessionCount> whole = oneReading(lines);
        StringBuilder export = new StringBuilder();
        int n = 0;
        for (String l : lines) {
            var sl = org.tlspolicy.tlsrpt.postfixlog.SyslogLine.parse(l, NOW, ZoneOffset.UTC)
                    .orElseThrow();
            long micros = sl.time().getEpochSecond() * 1_000_000 + sl.time().getNano() / 1000;
            export.append("__CURSOR=s=0123abcd;i=").append(Integer.toHexString(++n))
                    .append(";b=77;m=").append(n).append('\n')
                    .append("__REALTIME_TIMESTAMP=").append(micros).append('\n')
                    .append("__MONOTONIC_TIMESTAMP=").append(n * 1000L).append('\n')
                    .append("_HOSTNAME=").append(sl.host()).append('\n')
                    .append("PRIORITY=6\nSYSLOG_FACILITY=2\n")
                    .append("SYSLOG_IDENTIFIER=").append(sl.program()).append('\n')
                    .append("_PID=").append(sl.pid()).append('\n')
                    .append("_SYSTEMD_UNIT=postfix@-.service\n")
                    .append("MESSAGE=").append(sl.message()).append("\n\n");
        }
        String text = export.toString();
        for (long seed = 1; seed <= 3; seed++) {
            Random r = new Random(seed);
            Path file = dir.resolve("export-" + seed + ".log");
            Path db = dir.resolve("export-" + seed + ".db");
            int at = 0;
            while (at < text.length()) {
                int to = Math.min(text.length(), at + 1 + r.nextInt(2000));
                append(file, text.substring(at, to));
                at = to;
                try (SessionStore store = SessionStore.open(db)) {
                    collector(store).readToEnd(file);
                }
            }
            try (SessionStore store = SessionStore.open(db)) {
                assertEquals(whole, store.counts(DAY, null), "seed " + seed);
            }
        }
    }
}
