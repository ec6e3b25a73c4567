package org.tlspolicy.tlsrpt.postfixlog;

import java.time.Instant;
import java.util.Optional;

/**
 * One entry of journald's export format ({@code journalctl -o export}, systemd's "Journal
 * Export Format"): {@code FIELD=value} lines, the entry ended by an empty line; an entry begins
 * with {@code __CURSOR=}. Built a line at a time by the file collector, so that a mail log
 * saved in that format is read like any syslog file. Fields in the binary form (a name alone
 * on its line, then a length and raw bytes: values with newlines or control characters) are
 * not Postfix's smtp lines and are ignored. Not thread-safe.
 */
public final class JournalExportEntry {

    private String message;
    private String identifier;
    private String host = "";
    private long pid = -1;
    private long micros = -1;
    private boolean open;

    /** Whether {@code line} begins an entry of the export format. */
    public static boolean begins(String line) {
        return line.startsWith("__CURSOR=");
    }

    /** Whether an entry is being read (begun, not yet ended by an empty line). */
    public boolean open() {
        return open;
    }

    /** Starts a new entry (forgetting any unfinished one). */
    public void begin() {
        message = null;
        identifier = null;
        host = "";
        pid = -1;
        micros = -1;
        open = true;
    }

    /** One {@code FIELD=value} line of the open entry. */
    public void field(String line) {
        int eq = line.indexOf('=');
        if (eq <= 0) {
            return; // a binary field's name, or its bytes: not ours
        }
        String value = line.substring(eq + 1);
        switch (line.substring(0, eq)) {
            case "__REALTIME_TIMESTAMP" -> micros = number(value);
            case "MESSAGE" -> message = value;
            case "SYSLOG_IDENTIFIER" -> identifier = value;
            case "_HOSTNAME" -> host = value;
            case "_PID" -> pid = number(value);
            case "SYSLOG_PID" -> pid = pid < 0 ? number(value) : pid;
            default -> { }
        }
    }

    /** Ends the open entry (its empty line): the syslog line it stands for, if it is one. */
    public Optional<SyslogLine> end() {
        open = false;
        if (message == null || identifier == null || pid < 0 || micros < 0) {
            return Optional.empty();
        }
        Instant time = Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000);
        return Optional.of(new SyslogLine(time, host, identifier, pid, message));
    }

    private static long number(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
