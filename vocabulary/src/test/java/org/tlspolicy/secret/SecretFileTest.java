package org.tlspolicy.secret;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 34, finding 9: secret files others can change are refused, readable ones warned. */
class SecretFileTest {

    @TempDir
    Path dir;

    private Path file(String mode) throws IOException {
        Path f = Files.writeString(dir.resolve("secret-" + mode), "s3cret");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void writableByOthersIsRefusedReadableIsWarned() throws Exception {
        assertEquals(List.of(), SecretFile.check(file("rw-------"), "DKIM key"));
        assertEquals(List.of(), SecretFile.check(file("rw-r-----"), "DKIM key"));
        IOException e = assertThrows(IOException.class,
                () -> SecretFile.check(file("rw-rw----"), "fleet key"));
        assertTrue(e.getMessage().contains("is writable by group"), e.getMessage());
        e = assertThrows(IOException.class, () -> SecretFile.check(file("rw-r--rw-"), "key"));
        assertTrue(e.getMessage().contains("writable by every user"), e.getMessage());
        List<String> w = SecretFile.check(file("rw-r--r--"), "password file");
        assertEquals(1, w.size());
        assertTrue(w.get(0).contains("readable by every user"), w.get(0));
        assertTrue(SecretFile.groupReadable(file("r--r-----")));
        assertTrue(!SecretFile.groupReadable(file("r--------")));
    }
}
