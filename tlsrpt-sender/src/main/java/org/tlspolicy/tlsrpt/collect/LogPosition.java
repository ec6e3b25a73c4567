package org.tlspolicy.tlsrpt.collect;

import java.util.Optional;

/**
 * Where reading a log file stopped, as the store keeps it: the file (its inode, which survives
 * renaming by logrotate), the offset to read again from after a restart, and the offset up to
 * which sessions are counted.
 *
 * <p>They differ because a session is counted at its last line (the outcome) but begins
 * earlier (its TLS lines): a restart reads again from {@code resume}, the first line of any
 * session still open, to rebuild what those lines said, and counts only sessions that end after
 * {@code counted}. So no line is counted twice and none is lost.
 */
public record LogPosition(long inode, long resume, long counted) {

    public LogPosition {
        if (resume < 0 || counted < resume) {
            throw new IllegalArgumentException("bad log position " + inode + " " + resume + " "
                    + counted);
        }
    }

    public String encode() {
        return "inode=" + inode + " resume=" + resume + " counted=" + counted;
    }

    /** The position {@link #encode} wrote, or empty for anything else. */
    public static Optional<LogPosition> decode(String s) {
        String[] f = s.split(" ");
        if (f.length != 3 || !f[0].startsWith("inode=") || !f[1].startsWith("resume=")
                || !f[2].startsWith("counted=")) {
            return Optional.empty();
        }
        try {
            return Optional.of(new LogPosition(Long.parseLong(f[0].substring(6)),
                    Long.parseLong(f[1].substring(7)), Long.parseLong(f[2].substring(8))));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
