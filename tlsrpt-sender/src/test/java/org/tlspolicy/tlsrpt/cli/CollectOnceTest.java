package org.tlspolicy.tlsrpt.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code collect --once} as a process (its exit runs the shutdown hook that stops a following
 * collector): with nothing to read it exits at once, not after the hook's 10 s wait for the
 * thread that is itself exiting.
 */
class CollectOnceTest {

    @Test
    void collectOnceWithNothingToReadExitsPromptly(@TempDir Path dir) throws Exception {
        Path log = Files.writeString(dir.resolve("mail.log"), "");
        Process p = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "--store", dir.resolve("store.db").toString(),
                "collect", "--once", "--log", log.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile())
                .start();
        // The JVM's start and the store's creation take a second or two; the old hook added 10.
        boolean exited = p.waitFor(7, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
        }
        String out = Files.readString(dir.resolve("out.txt"));
        assertTrue(exited, "still running after 7 s:\n" + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("lines=0"), out);
    }
}
