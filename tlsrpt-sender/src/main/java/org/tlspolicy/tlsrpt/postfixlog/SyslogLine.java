package org.tlspolicy.tlsrpt.postfixlog;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * One line of a mail log as syslog writes it: {@code TIME [HOST] [SEVERITY…] PROGRAM[PID]:
 * MESSAGE}, with the traditional timestamp ({@code Nov 23 13:52:25}, local time, no year: what
 * rsyslog's traditional template and Postfix's own {@code maillog_file} write), RFC 3339 ({@code
 * 2026-11-23T13:52:25.123456+00:00}: Debian 12's rsyslog default) or ISO 8601 with a space and
 * no offset (local time); optionally after a {@code <PRI>}; with or without a host, and with a
 * severity ({@code info}, {@code mail.info}) before the tag as some templates write. Also RFC
 * 5424 ({@code <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG}). Only lines with a process ID
 * are read: sessions are told apart by it.
 *
 * @param time    when it was logged
 * @param host    the host name field
 * @param program the syslog tag without its PID, e.g. {@code postfix/smtp}
 * @param pid     the process ID in brackets
 * @param message what follows {@code ": "}
 */
public record SyslogLine(Instant time, String host, String program, long pid, String message) {

    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
        "Aug", "Sep", "Oct", "Nov", "Dec"};

    /** The longest line considered: Postfix's own lines stay far below (line_length_limit). */
    public static final int MAX_LENGTH = 16 * 1024;

    /**
     * Parses {@code line}; empty if it is not a syslog line with a {@code PROGRAM[PID]} tag.
     * A traditional timestamp is read in {@code zone}, in the year that puts it at most a day
     * after {@code reference} (a log read in January still has December's lines).
     */
    public static Optional<SyslogLine> parse(String line, Instant reference, ZoneId zone) {
        return new Parser(zone).parse(line, reference);
    }

    /**
     * A parser for one log, in {@code zone}: it remembers the last traditional timestamp it
     * read, since a log's lines come many to a second (turning one into an instant is most of
     * the cost of a line). Not thread-safe.
     */
    public static final class Parser {

        private final ZoneId zone;
        private String lastStamp;
        private Instant lastReference;
        private Instant lastTime;

        public Parser(ZoneId zone) {
            this.zone = zone;
        }

        /** As {@link SyslogLine#parse}. */
        public Optional<SyslogLine> parse(String line, Instant reference) {
            return SyslogLine.parse(line, reference, zone, this);
        }

        Instant traditional(String line, Instant reference) {
            if (reference == lastReference && lastStamp != null
                    && line.regionMatches(0, lastStamp, 0, 15)) {
                return lastTime;
            }
            Instant t = SyslogLine.traditional(line, reference, zone);
            lastStamp = t == null ? null : line.substring(0, 15);
            lastReference = reference;
            lastTime = t;
            return t;
        }
    }

    private static Optional<SyslogLine> parse(String line, Instant reference, ZoneId zone,
                                              Parser cache) {
        if (line.length() > MAX_LENGTH || line.length() < 20) {
            return Optional.empty();
        }
        int base = 0;
        if (line.charAt(0) == '<') {
            // A priority, as rsyslog's forwarding templates and RFC 5424 write it: <PRI>.
            int close = line.indexOf('>');
            if (close < 2 || close > 4) {
                return Optional.empty();
            }
            base = close + 1;
            if (line.startsWith("1 ", base)) {
                return rfc5424(line, base + 2, zone);
            }
        }
        Instant time;
        int pos;
        if (Character.isDigit(line.charAt(base))) {
            // ISO 8601 / RFC 3339: 2026-11-23T13:52:25.123456+00:00 (rsyslog's default on
            // Debian), or with a space and no offset (local time), as other templates write.
            int space = line.indexOf(' ', base);
            if (space < 0) {
                return Optional.empty();
            }
            int end = space;
            if (space - base == 10 && line.length() > space + 9 && line.charAt(space + 3) == ':') {
                end = line.indexOf(' ', space + 1);
                if (end < 0) {
                    return Optional.empty();
                }
            }
            time = iso(line.substring(base, end).replace(' ', 'T').replace(',', '.'), zone);
            if (time == null) {
                return Optional.empty();
            }
            pos = end + 1;
        } else {
            if (line.length() < base + 20) {
                return Optional.empty();
            }
            time = cache.traditional(base == 0 ? line : line.substring(base), reference);
            if (time == null) {
                return Optional.empty();
            }
            pos = base + 16;
        }
        // Then: [HOST] [SEVERITY or FACILITY.SEVERITY …] PROGRAM[PID]: MESSAGE. The tag is the
        // word before the first ": "; the first word before it, if any, is the host (templates
        // without one, and with a severity word, exist).
        int tagEnd = line.indexOf(": ", pos);
        if (tagEnd <= pos) {
            return Optional.empty();
        }
        int tagStart = line.lastIndexOf(' ', tagEnd - 1) + 1;
        if (tagStart < pos) {
            tagStart = pos;
        }
        int open = line.lastIndexOf('[', tagEnd);
        if (open <= tagStart || line.charAt(tagEnd - 1) != ']') {
            return Optional.empty();
        }
        long pid = pid(line, open + 1, tagEnd - 1);
        if (pid < 0) {
            return Optional.empty();
        }
        String host = "";
        if (tagStart > pos) {
            int hostEnd = line.indexOf(' ', pos);
            host = line.substring(pos, hostEnd);
        }
        return Optional.of(new SyslogLine(time, host, line.substring(tagStart, open), pid,
                line.substring(tagEnd + 2)));
    }

    /** The decimal number between {@code from} and {@code to}, or -1. */
    private static long pid(String line, int from, int to) {
        if (from >= to || to - from > 10) {
            return -1;
        }
        long pid = 0;
        for (int i = from; i < to; i++) {
            char c = line.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            pid = pid * 10 + (c - '0');
        }
        return pid;
    }

    /** An ISO 8601 timestamp, with its offset, or without (then in {@code zone}); or null. */
    private static Instant iso(String text, ZoneId zone) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return LocalDateTime.parse(text).atZone(zone).toInstant();
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    /**
     * RFC 5424 §6 after {@code <PRI>1 }: {@code TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
     * STRUCTURED-DATA MSG}, as rsyslog's RSYSLOG_SyslogProtocol23Format writes it; "-" for
     * what is absent (a PROCID of "-" has no process to tell sessions apart by: not read).
     */
    private static Optional<SyslogLine> rfc5424(String line, int pos, ZoneId zone) {
        String[] f = new String[5];
        for (int i = 0; i < 5; i++) {
            int space = line.indexOf(' ', pos);
            if (space <= pos) {
                return Optional.empty();
            }
            f[i] = line.substring(pos, space);
            pos = space + 1;
        }
        Instant time = iso(f[0], zone);
        long pid = pid(f[3], 0, f[3].length());
        if (time == null || pid < 0) {
            return Optional.empty();
        }
        // STRUCTURED-DATA: "-", or [id param="value" …]… (a ']' inside a value is escaped).
        if (line.startsWith("- ", pos)) {
            pos += 2;
        } else if (line.startsWith("[", pos)) {
            boolean escaped = false;
            boolean inValue = false;
            int i = pos;
            for (; i < line.length(); i++) {
                char c = line.charAt(i);
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    inValue = !inValue;
                } else if (c == ' ' && !inValue && line.charAt(i - 1) == ']') {
                    break;
                }
            }
            if (i >= line.length()) {
                return Optional.empty();
            }
            pos = i + 1;
        } else {
            return Optional.empty();
        }
        String message = line.substring(pos);
        if (message.startsWith("\uFEFF")) {
            message = message.substring(1); // RFC 5424 §6.4: a UTF-8 MSG may begin with a BOM
        }
        return Optional.of(new SyslogLine(time, f[1].equals("-") ? "" : f[1], f[2], pid,
                message));
    }

    /** {@code Mmm dd HH:MM:SS } (day space-padded), or null. */
    private static Instant traditional(String line, Instant reference, ZoneId zone) {
        if (line.charAt(3) != ' ' || line.charAt(6) != ' ' || line.charAt(9) != ':'
                || line.charAt(12) != ':' || line.charAt(15) != ' ') {
            return null;
        }
        int month = -1;
        for (int m = 0; m < 12; m++) {
            if (line.regionMatches(0, MONTHS[m], 0, 3)) {
                month = m + 1;
                break;
            }
        }
        int day = digits(line, 4, 2);
        int hour = digits(line, 7, 2);
        int minute = digits(line, 10, 2);
        int second = digits(line, 13, 2);
        if (month < 0 || day < 1 || hour < 0 || minute < 0 || second < 0) {
            return null;
        }
        int year = ZonedDateTime.ofInstant(reference, zone).getYear();
        try {
            Instant t = LocalDateTime.of(year, month, day, hour, minute, second)
                    .atZone(zone).toInstant();
            if (t.isAfter(reference.plusSeconds(86_400))) {
                t = LocalDateTime.of(year - 1, month, day, hour, minute, second)
                        .atZone(zone).toInstant();
            }
            return t;
        } catch (DateTimeException e) {
            return null; // Feb 30, or Feb 29 of a year without it
        }
    }

    /** The number in {@code len} characters at {@code from} (a leading space allowed), or -1. */
    private static int digits(String s, int from, int len) {
        int n = 0;
        boolean any = false;
        for (int i = from; i < from + len; i++) {
            char c = s.charAt(i);
            if (c == ' ' && !any) {
                continue;
            }
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
            any = true;
        }
        return any ? n : -1;
    }
}
