package org.tlspolicy.tlsrpt.postfixlog;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties of the Postfix log reader: syslog lines, SMTP client events, sessions. */
class PostfixLogProperties {

    private static final Instant REFERENCE = Instant.parse("2026-12-01T00:00:00Z");
    private static final DateTimeFormatter TRADITIONAL =
            DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ROOT);

    @Provide
    Arbitrary<String> hosts() {
        return Arbitraries.strings().withCharRange('a', 'z').withChars('-', '.')
                .ofMinLength(1).ofMaxLength(30).filter(h -> !h.isBlank());
    }

    @Provide
    Arbitrary<String> programs() {
        return Arbitraries.of("postfix/smtp", "postfix/qmgr", "postfix-out/smtp", "postfix/relay",
                "postfix/pickup", "sshd", "CRON");
    }

    @Provide
    Arbitrary<LocalDateTime> times() {
        // Within the year the parser places a yearless timestamp in: up to a day after the
        // reference and less than a year before that.
        return Arbitraries.longs().between(0, 362L * 86_400).map(s ->
                LocalDateTime.ofEpochSecond(REFERENCE.getEpochSecond() - 86_400 - s, 0,
                        ZoneOffset.UTC));
    }

    @Property
    void everyLineFormatRoundTrips(@ForAll("times") LocalDateTime time,
                                       @ForAll("hosts") String host,
                                       @ForAll("programs") String program,
                                       @ForAll @LongRange(min = 0, max = 99_999_999L) long pid,
                                       @ForAll String message) {
        String tag = program + "[" + pid + "]: " + message;
        String rest = " " + host + " " + tag;
        Instant expected = time.toInstant(ZoneOffset.UTC);
        String iso = time.atOffset(ZoneOffset.UTC).toString();
        // Every format the collector reads: traditional (rsyslog's traditional template,
        // Postfix's maillog_file), RFC 3339 (Debian's rsyslog), ISO with a space and no offset,
        // a severity or facility.severity word after the host, no host at all, a <PRI> before
        // a traditional line, and RFC 5424.
        java.util.Map<String, String> lines = new java.util.LinkedHashMap<>();
        lines.put(TRADITIONAL.format(time) + rest, host);
        lines.put(iso + rest, host);
        lines.put(time.toLocalDate() + " " + time.toLocalTime() + rest, host);
        lines.put(iso + " " + host + " mail.info " + tag, host);
        lines.put(iso + " " + host + " warning " + tag, host);
        lines.put(iso + " " + tag, "");
        lines.put("<22>" + TRADITIONAL.format(time) + rest, host);
        if (!message.startsWith("\uFEFF")) {
            String nil = host.equals("-") ? "" : host; // RFC 5424's NILVALUE
            lines.put("<22>1 " + iso + " " + host + " " + program + " " + pid + " - - " + message,
                    nil);
            lines.put("<22>1 " + iso + " " + host + " " + program + " " + pid
                    + " - [origin ip=\"192.0.2.1\" x=\"a\\]b c\"] " + message, nil);
        }
        for (var e : lines.entrySet()) {
            String line = e.getKey();
            Optional<SyslogLine> parsed = SyslogLine.parse(line, REFERENCE, ZoneOffset.UTC);
            if (line.length() > SyslogLine.MAX_LENGTH) {
                assertTrue(parsed.isEmpty());
                continue;
            }
            SyslogLine l = parsed.orElseThrow(() -> new AssertionError(line));
            assertEquals(new SyslogLine(expected, e.getValue(), program, pid, message), l, line);
        }
    }

    @Property
    void arbitraryTextNeverThrows(@ForAll String text) {
        Optional<SyslogLine> l = SyslogLine.parse(text, REFERENCE, ZoneOffset.UTC);
        l.ifPresent(line -> assertTrue(text.endsWith(line.message()), text));
        SyslogLine smtp = new SyslogLine(REFERENCE, "h", "postfix/smtp", 1, text);
        SmtpLogParser.parse(smtp);
        SmtpLogParser.parse(new SyslogLine(REFERENCE, "h", "postfix/qmgr", 1, text));
    }

    @Provide
    Arbitrary<String> queueIds() {
        return Arbitraries.strings().withChars("0123456789ABCDEF").ofMinLength(8)
                .ofMaxLength(12);
    }

    @Provide
    Arbitrary<String> ips() {
        return Arbitraries.integers().between(0, 255).list().ofSize(4)
                .map(l -> l.get(0) + "." + l.get(1) + "." + l.get(2) + "." + l.get(3));
    }

    @Property
    void deliveryLinesRoundTrip(@ForAll("queueIds") String queueId, @ForAll("hosts") String user,
                                @ForAll("hosts") String domain, @ForAll("hosts") String mx,
                                @ForAll("ips") String ip,
                                @ForAll @IntRange(min = 1, max = 65535) int port,
                                @ForAll("statuses") String status, @ForAll String reason,
                                @ForAll @IntRange(max = 100_000) int before,
                                @ForAll @IntRange(max = 1000) int inQueueManager) {
        String r = reason.replace("\n", " ");
        String rcpt = user + "@" + domain;
        String delays = before + "/" + inQueueManager / 100.0 + "/0.1/0";
        String message = queueId + ": to=<" + rcpt + ">, relay=" + mx + "[" + ip + "]:" + port
                + ", delay=0.2, delays=" + delays + ", dsn=4.7.5, status=" + status + " (" + r
                + ")";
        SmtpLogEvent e = SmtpLogParser.parse(new SyslogLine(REFERENCE, "h", "postfix/smtp", 7,
                message)).orElseThrow(() -> new AssertionError(message));
        assertEquals(new SmtpLogEvent.Delivery(queueId, rcpt, new Endpoint(mx, ip, port),
                "4.7.5", status, r, delays), e);
    }

    @Provide
    Arbitrary<String> statuses() {
        return Arbitraries.of("sent", "deferred", "bounced");
    }

    @Property
    void tlsLinesRoundTrip(@ForAll SmtpLogEvent.Trust trust, @ForAll("hosts") String mx,
                           @ForAll("ips") String ip, @ForAll String tail) {
        String word = trust.name().charAt(0) + trust.name().substring(1).toLowerCase(Locale.ROOT);
        String message = word + " TLS connection established to " + mx + "[" + ip + "]:25: "
                + tail;
        assertEquals(Optional.of(new SmtpLogEvent.TlsEstablished(trust, new Endpoint(mx, ip,
                25))), SmtpLogParser.parse(new SyslogLine(REFERENCE, "h", "postfix/smtp", 7,
                message)));
    }

    static List<String> fixtureLines() throws IOException, URISyntaxException {
        List<String> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(PostfixLogFixturesTest.fixtures())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                all.addAll(PostfixLogFixturesTest.lines(f));
            }
        }
        return all;
    }

    /**
     * Real lines, shuffled, cut short or with characters replaced (what a log truncated by a
     * full disk or a crashed writer holds): the reader never throws, and every session it
     * makes has a domain or an MX.
     */
    @Property(tries = 300)
    void damagedRealLogsNeverBreakTheReader(@ForAll long seed,
                                            @ForAll @IntRange(min = 0, max = 3) int damage)
            throws Exception {
        List<String> lines = new ArrayList<>(fixtureLines());
        Random r = new Random(seed);
        switch (damage) {
            case 0 -> Collections.shuffle(lines, r);
            case 1 -> lines.replaceAll(l -> l.substring(0, r.nextInt(l.length() + 1)));
            case 2 -> lines.replaceAll(l -> {
                char[] c = l.toCharArray();
                for (int i = 0; i < 3 && c.length > 0; i++) {
                    c[r.nextInt(c.length)] = "[]:<>, =()@\n".charAt(r.nextInt(12));
                }
                return new String(c);
            });
            default -> {
                List<String> doubled = new ArrayList<>(lines);
                doubled.addAll(lines);
                lines = doubled;
            }
        }
        List<TlsSession> sessions = SessionAssembler.assemble(lines, REFERENCE, ZoneOffset.UTC);
        for (TlsSession s : sessions) {
            assertNotNull(s.facts());
            assertTrue(!s.domain().isEmpty() || !s.mx().host().isEmpty(), s.toString());
        }
    }

    @Property
    void aProcessesLinesAreNotDisturbedByAnothers(@ForAll long seed) throws Exception {
        // Interleave the fixture lines with the same lines of a second process (PIDs and queue
        // IDs changed): each yields its sessions, so twice as many as one alone.
        List<String> one = fixtureLines();
        List<String> other = one.stream().map(l -> l.replace("[260]", "[9260]")
                .replace("[247]", "[9247]").replaceAll(": ([0-9A-F]{6,}): ", ": 9$1: ")).toList();
        List<String> mixed = new ArrayList<>();
        Random r = new Random(seed);
        int i = 0;
        int j = 0;
        while (i < one.size() || j < other.size()) {
            if (j >= other.size() || (i < one.size() && r.nextBoolean())) {
                mixed.add(one.get(i++));
            } else {
                mixed.add(other.get(j++));
            }
        }
        int alone = SessionAssembler.assemble(one, REFERENCE, ZoneOffset.UTC).size();
        assertEquals(2 * alone, SessionAssembler.assemble(mixed, REFERENCE, ZoneOffset.UTC)
                .size());
    }

    /** journald's export format: an entry's fields give back the syslog line they came from. */
    @Property
    void journalExportEntriesRoundTrip(@ForAll("hosts") String host,
                                       @ForAll("programs") String program,
                                       @ForAll @LongRange(min = 0, max = 99_999_999L) long pid,
                                       @ForAll @LongRange(min = 0, max = 4_000_000_000_000_000L)
                                       long micros,
                                       @ForAll String message, @ForAll List<String> noise) {
        JournalExportEntry e = new JournalExportEntry();
        assertTrue(JournalExportEntry.begins("__CURSOR=s=1;i=2"));
        e.begin();
        for (String n : noise) {
            // Other fields, and binary-form lines: ignored, never thrown at.
            e.field(n.replace("\n", " ").replaceFirst("^(MESSAGE|SYSLOG_IDENTIFIER|_PID|"
                    + "SYSLOG_PID|_HOSTNAME|__REALTIME_TIMESTAMP)=", "X="));
        }
        String m = message.replace("\n", " ");
        e.field("__REALTIME_TIMESTAMP=" + micros);
        e.field("_HOSTNAME=" + host);
        e.field("SYSLOG_IDENTIFIER=" + program);
        e.field("_PID=" + pid);
        e.field("MESSAGE=" + m);
        assertTrue(e.open());
        SyslogLine l = e.end().orElseThrow();
        assertEquals(new SyslogLine(Instant.ofEpochSecond(micros / 1_000_000,
                (micros % 1_000_000) * 1000), host, program, pid, m), l);
        assertFalse(e.open());
    }
}
