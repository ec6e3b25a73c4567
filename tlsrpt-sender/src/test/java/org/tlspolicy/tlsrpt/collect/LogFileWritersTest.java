package org.tlspolicy.tlsrpt.collect;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 34, finding 6: a log file others can write is refused, with why. The tests run as root
 * (scripts/test), so files are root's unless given away.
 */
class LogFileWritersTest {

    @TempDir
    Path dir;

    @Test
    void rootsLogIsTrustedOthersAreNot() throws Exception {
        Path log = Files.writeString(dir.resolve("mail.log"), "");
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-r-----"));
        assertEquals(java.util.Optional.empty(), LogFileWriters.untrusted(log));
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertTrue(LogFileWriters.untrusted(log).orElseThrow().endsWith(
                "is writable by every user"));
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-r-----"));
        UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(log, users.lookupPrincipalByName("nobody"));
        assertTrue(LogFileWriters.untrusted(log).orElseThrow().contains("is owned by nobody"));
        Files.setOwner(log, users.lookupPrincipalByName("root"));
        Files.getFileAttributeView(log, java.nio.file.attribute.PosixFileAttributeView.class)
                .setGroup(users.lookupPrincipalByGroupName("nogroup"));
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-rw----"));
        assertTrue(LogFileWriters.untrusted(log).orElseThrow().contains("writable by group "
                + "nogroup"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-r-----"));
        assertTrue(LogFileWriters.untrusted(log).orElseThrow().startsWith("its directory"));
    }
}
