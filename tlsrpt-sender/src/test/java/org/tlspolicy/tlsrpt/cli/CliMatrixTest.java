package org.tlspolicy.tlsrpt.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every subcommand of tlsrpt-sender: {@code --help} and exit 0, unknown options exit 2,
 * required options marked so, {@code --store} before or after the command, empty results
 * said, errors in words.
 */
class CliMatrixTest {

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"collect", "report", "send", "status"})
    void everySubcommandHasHelpAndRejectsUnknownOptions(String command) {
        for (String help : new String[] {"--help", "-h"}) {
            Result r = run(command, help);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().startsWith("Usage: tlsrpt-sender " + command), r.out());
            assertTrue(r.out().contains("--store=FILE"), "inherited: " + r.out());
        }
        // What the command needs is given, so that the unknown option is what is wrong.
        Result r = switch (command) {
            case "send" -> run(command, "--no-such-option", "--from=a@example.net",
                    "--organization=o", "--contact=c", "--submitter=example.net");
            case "collect" -> run(command, "--no-such-option", "--journal");
            default -> run(command, "--no-such-option");
        };
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().startsWith("Unknown option: '--no-such-option'"), r.err());
    }

    @Test
    void withoutACommandItIsAUsageError() {
        Result r = run();
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().startsWith("Usage: tlsrpt-sender"), r.err());
        assertTrue(run("--help").out().contains("Exit codes:"));
    }

    @Test
    void sendMarksWhatItNeedsRequired() {
        Result r = run("send", "--from", "tlsrpt@example.net");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().startsWith("Missing required options: '--organization=<organization>"
                + "', '--contact=<contact>', '--submitter=<submitter>'"), r.err());
        assertTrue(run("collect").err().startsWith("Error: Missing required argument"));
    }

    @Test
    void theStoreOptionWorksBeforeAndAfterTheCommandAndEmptyResultsSaySo(@TempDir Path dir) {
        Path before = dir.resolve("before.db");
        Path after = dir.resolve("after.db");
        Result r = run("--store", before.toString(), "status");
        assertEquals(0, r.code(), r.err());
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        assertEquals("collector never ran on this store (tlsrpt-sender-collect)\nday=" + today
                + " no sessions recorded\nno report deliveries planned yet\n", r.out());
        r = run("report", "--store", after.toString(), "--day", "2026-11-01");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out());
        assertEquals("tlsrpt-sender: no sessions recorded for 2026-11-01 in " + after
                + ": no report\n", r.err());
        assertTrue(Files.exists(before) && Files.exists(after));
    }

    @Test
    void errorsAreInWordsNotExceptionNames(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "");
        Result r = run("--store", file.resolve("x.db").toString(), "status");
        assertEquals(Main.EXIT_FAILED, r.code());
        assertTrue(r.err().startsWith("tlsrpt-sender: "), r.err());
        assertFalse(r.err().matches("(?s).*\\b[A-Z]\\w*(Exception|Error)\\b.*"), r.err());
        r = run("--store", dir.resolve("s.db").toString(), "collect", "--once", "--log",
                dir.resolve("no-such.log").toString());
        assertEquals(Main.EXIT_FAILED, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("no-such.log"), r.err());
        assertFalse(r.err().matches("(?s).*\\b[A-Z]\\w*(Exception|Error)\\b.*"), r.err());
    }
}
