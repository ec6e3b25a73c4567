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
 * One line of a mail log as syslog writes it: {@code TIME HOST PROGRAM[PID]: MESSAGE}, with
 * either the traditional timestamp ({@code Nov 23 13:52:25}, local time, no year: what Postfix's
 * own postlogd and rsyslog's traditional format write) or RFC 3339 ({@code
 * 2026-11-23T13:52:25.123456+00:00}: Debian 12's rsyslog default).
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
        Instant time;
        int pos;
        if (Character.isDigit(line.charAt(0))) {
            int space = line.indexOf(' ');
            if (space < 0) {
                return Optional.empty();
            }
            try {
                time = OffsetDateTime.parse(line.substring(0, space)).toInstant();
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
            pos = space + 1;
        } else {
            time = cache.traditional(line, reference);
            if (time == null) {
                return Optional.empty();
            }
            pos = 16;
        }
        int hostEnd = line.indexOf(' ', pos);
        if (hostEnd <= pos) {
            return Optional.empty();
        }
        int tagEnd = line.indexOf(": ", hostEnd + 1);
        if (tagEnd < 0) {
            return Optional.empty();
        }
        int open = line.lastIndexOf('[', tagEnd);
        if (open <= hostEnd + 1 || line.charAt(tagEnd - 1) != ']') {
            return Optional.empty();
        }
        long pid = 0;
        if (open + 1 >= tagEnd - 1 || tagEnd - 1 - (open + 1) > 10) {
            return Optional.empty();
        }
        for (int i = open + 1; i < tagEnd - 1; i++) {
            char c = line.charAt(i);
            if (c < '0' || c > '9') {
                return Optional.empty();
            }
            pid = pid * 10 + (c - '0');
        }
        String program = line.substring(hostEnd + 1, open);
        if (program.indexOf(' ') >= 0) {
            return Optional.empty();
        }
        return Optional.of(new SyslogLine(time, line.substring(pos, hostEnd), program, pid,
                line.substring(tagEnd + 2)));
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
