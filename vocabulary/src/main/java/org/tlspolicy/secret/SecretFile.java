package org.tlspolicy.secret;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A file holding a secret: a DKIM key, the fleet key, a password. Whoever can change it can
 * sign mail as the operator, forge fleet entries, or point the program at a server of their
 * own: one that its group or every user can write is refused, whatever it holds. One every
 * user can read is used, with a warning (the secret is no longer one).
 */
public final class SecretFile {

    private SecretFile() {
    }

    /**
     * Checks {@code file}, the {@code what} of the program ("DKIM key", "fleet key").
     *
     * @return warnings to log, one line each (empty: nothing to say)
     * @throws IOException naming the file, why it is refused and what to do
     */
    public static List<String> check(Path file, String what) throws IOException {
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(file, PosixFileAttributes.class);
        } catch (UnsupportedOperationException e) {
            return List.of(); // not a POSIX file system: nothing to check
        }
        Set<PosixFilePermission> p = a.permissions();
        if (p.contains(PosixFilePermission.OTHERS_WRITE)
                || p.contains(PosixFilePermission.GROUP_WRITE)) {
            throw new IOException(what + " " + file + " is writable by "
                    + (p.contains(PosixFilePermission.OTHERS_WRITE) ? "every user"
                    : "group " + a.group().getName()) + ": refused (chmod go-w " + file + ")");
        }
        List<String> warnings = new ArrayList<>();
        if (p.contains(PosixFilePermission.OTHERS_READ)) {
            warnings.add(what + " " + file + " is readable by every user: it is no secret any "
                    + "more; chmod o-r " + file + " (and replace it)");
        }
        return warnings;
    }

    /**
     * Whether {@code file}'s group may read it (the DKIM key must not be readable by a group
     * other programs join, such as the one tlspolicyd joins to read the report store).
     */
    public static boolean groupReadable(Path file) throws IOException {
        try {
            return Files.readAttributes(file, PosixFileAttributes.class).permissions()
                    .contains(PosixFilePermission.GROUP_READ);
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }
}
