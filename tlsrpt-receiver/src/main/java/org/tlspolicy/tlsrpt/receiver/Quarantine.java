package org.tlspolicy.tlsrpt.receiver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;

/**
 * Where refused mail goes, whole: nothing a reporter sent is lost, and an operator can look at
 * it. One file per mail, {@code UTC-TIME-HASH.eml} (the name made here, never from the mail),
 * written to a temporary name and then moved, with the reason beside it in {@code .reason}.
 */
public final class Quarantine {

    private static final DateTimeFormatter TIME = DateTimeFormatter
            .ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Path dir;

    public Quarantine(Path dir) {
        this.dir = dir;
    }

    /** Keeps {@code raw} with {@code reason}; returns its file. */
    public Path keep(byte[] raw, String reason, Instant now) throws IOException {
        Files.createDirectories(dir);
        String name;
        try {
            name = TIME.format(now) + "-" + HexFormat.of().formatHex(MessageDigest
                    .getInstance("SHA-256").digest(raw), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path file = dir.resolve(name + ".eml");
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.write(tmp, raw);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve(name + ".reason"), reason + "\n", StandardCharsets.UTF_8);
        return file;
    }

    public Path dir() {
        return dir;
    }
}
