package org.tlspolicy.tlsrpt.collect;

import java.util.Optional;

/**
 * Where reading a log file stopped, as the store keeps it: the file (its inode, which survives
 * renaming by logrotate, and a fingerprint of its first bytes, which survives compression and
 * tells a truncated and rewritten file from the one we read), the offset to read again from
 * after a restart, and the offset up to which sessions are counted.
 *
 * <p>The offsets differ because a session is counted at its last line (the outcome) but begins
 * earlier (its TLS lines): a restart reads again from {@code resume}, the first line of any
 * session still open, to rebuild what those lines said, and counts only sessions that end after
 * {@code counted}. So no line is counted twice and none is lost.
 *
 * <p>A session can begin in one file and end in the next (logrotate between its lines): while
 * one is open, its lines from the previous file are kept with the position ({@code carry}), so
 * that a restart knows it too.
 *
 * @param head  the fingerprint of the file's first bytes when the position was saved
 * @param carry lines of the previous file that sessions still open began with (already
 *              counted), or ""
 */
public record LogPosition(long inode, long resume, long counted, Head head, String carry) {

    /**
     * CRC-32 of a file's first {@code length} bytes (at most {@link #MAX}); length 0: nothing
     * known (an empty file, or a position saved by a version without fingerprints).
     */
    public record Head(int length, long crc) {

        /** Bytes fingerprinted at most: enough to tell one day's log from another's. */
        public static final int MAX = 4096;

        public static final Head NONE = new Head(0, 0);

        public boolean known() {
            return length > 0;
        }
    }

    /** Lines carried over from a previous file, at most (a few open sessions' worth). */
    public static final int MAX_CARRY = 256 * 1024;

    public LogPosition(long inode, long resume, long counted, Head head) {
        this(inode, resume, counted, head, "");
    }

    public LogPosition {
        if (resume < 0 || counted < resume) {
            throw new IllegalArgumentException("bad log position " + inode + " " + resume + " "
                    + counted);
        }
    }

    public String encode() {
        return "inode=" + inode + " resume=" + resume + " counted=" + counted + " head="
                + head.length() + ":" + Long.toHexString(head.crc())
                + (carry.isEmpty() ? "" : "\n" + carry);
    }

    /** The position {@link #encode} wrote (or its older form, without head), else empty. */
    public static Optional<LogPosition> decode(String text) {
        int newline = text.indexOf('\n');
        String s = newline < 0 ? text : text.substring(0, newline);
        String carry = newline < 0 ? "" : text.substring(newline + 1);
        String[] f = s.split(" ");
        if ((f.length != 3 && f.length != 4) || !f[0].startsWith("inode=")
                || !f[1].startsWith("resume=") || !f[2].startsWith("counted=")) {
            return Optional.empty();
        }
        try {
            Head head = Head.NONE;
            if (f.length == 4) {
                int colon = f[3].indexOf(':');
                if (!f[3].startsWith("head=") || colon < 0) {
                    return Optional.empty();
                }
                head = new Head(Integer.parseInt(f[3].substring(5, colon)),
                        Long.parseLong(f[3].substring(colon + 1), 16));
                if (head.length() < 0 || head.length() > Head.MAX) {
                    return Optional.empty();
                }
            }
            return Optional.of(new LogPosition(Long.parseLong(f[0].substring(6)),
                    Long.parseLong(f[1].substring(7)), Long.parseLong(f[2].substring(8)), head,
                    carry));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
