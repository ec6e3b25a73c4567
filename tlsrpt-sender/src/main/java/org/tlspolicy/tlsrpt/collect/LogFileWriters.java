package org.tlspolicy.tlsrpt.collect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.Set;

/**
 * Who can write the log file the collector counts from. Every line of it becomes part of a
 * report that this relay signs and sends to the domain the line names, so a log that a local
 * user can write is a way to make the relay report (and mail, and post) at that user's will:
 * such a file is refused. Trusted writers are root, the users and groups Debian's syslog
 * daemons write as, {@code syslog} and {@code adm} (rsyslog's /var/log/mail.log is {@code
 * root:adm 0640}), and {@code postfix}, whose postlogd(8) may write Postfix's own
 * maillog_file.
 */
final class LogFileWriters {

    static final Set<String> TRUSTED = Set.of("root", "syslog", "adm", "postfix");

    private LogFileWriters() {
    }

    /** Why {@code file} (or its directory) may be written by someone untrusted, or empty. */
    static Optional<String> untrusted(Path file) throws IOException {
        PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class);
        Set<PosixFilePermission> p = a.permissions();
        String owner = a.owner().getName();
        String group = a.group().getName();
        if (!TRUSTED.contains(owner)) {
            return Optional.of(file + " is owned by " + owner + ", who could write lines of "
                    + "their choosing into it (trusted: root, syslog, adm, postfix)");
        }
        if (p.contains(PosixFilePermission.OTHERS_WRITE)) {
            return Optional.of(file + " is writable by every user");
        }
        if (p.contains(PosixFilePermission.GROUP_WRITE) && !TRUSTED.contains(group)) {
            return Optional.of(file + " is writable by group " + group
                    + " (trusted: root, syslog, adm, postfix)");
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            PosixFileAttributes d = Files.readAttributes(dir, PosixFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            Set<PosixFilePermission> dp = d.permissions();
            if (dp.contains(PosixFilePermission.OTHERS_WRITE) && !sticky(dir)) {
                return Optional.of("its directory " + dir + " is writable by every user, who "
                        + "could put another file in its place");
            }
        }
        return Optional.empty();
    }

    /** The sticky bit, which POSIX permissions do not show: only owners may rename. */
    private static boolean sticky(Path dir) throws IOException {
        Object mode = Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return mode instanceof Integer m && (m & 01000) != 0;
    }
}
