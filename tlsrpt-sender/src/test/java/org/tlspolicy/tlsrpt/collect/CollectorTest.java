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
}
