package org.tlspolicy.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Debian's real {@code postmap -q}, the lookup tool Postfix's manual tells operators to use.
 * Exit code 0: found (value on stdout); 1: not found, or an error (stderr then says why).
 */
final class Postmap {

    private final Path configDirectory;

    /** A Postfix configuration directory of our own, so the host's Postfix is left alone. */
    Postmap(Path dir) throws IOException {
        if (!Files.isExecutable(Path.of("/usr/sbin/postmap"))) {
            throw new IllegalStateException("/usr/sbin/postmap is missing: install Debian's "
                    + "postfix package (scripts/test does)");
        }
        this.configDirectory = Files.createDirectories(dir);
        Files.writeString(configDirectory.resolve("main.cf"), "compatibility_level = 3.6\n");
    }

    record Result(int exitCode, String out, String err) {
    }

    Result query(String key, String table) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/usr/sbin/postmap", "-c", configDirectory.toString(),
                "-q", key, table).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("postmap did not finish");
        }
        return new Result(p.exitValue(), out.strip(), err.strip());
    }
}
