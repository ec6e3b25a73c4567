package org.tlspolicy.postfix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The groups a local user is in, from /etc/passwd (primary group) and /etc/group (members), as
 * the C library would report them for a user in local files.
 */
final class Groups {

    private Groups() {
    }

    static Set<String> of(String user) throws IOException {
        return of(user, Files.readAllLines(Path.of("/etc/passwd")),
                Files.readAllLines(Path.of("/etc/group")));
    }

    static Set<String> of(String user, List<String> passwd, List<String> group) {
        String gid = null;
        for (String line : passwd) {
            String[] f = line.split(":", -1);
            if (f.length >= 4 && f[0].equals(user)) {
                gid = f[3];
                break;
            }
        }
        Set<String> out = new HashSet<>();
        for (String line : group) {
            String[] f = line.split(":", -1);
            if (f.length < 4) {
                continue;
            }
            if (f[2].equals(gid) || List.of(f[3].split(",")).contains(user)) {
                out.add(f[0]);
            }
        }
        return out;
    }
}
