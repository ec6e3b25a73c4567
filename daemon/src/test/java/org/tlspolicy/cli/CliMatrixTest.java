package org.tlspolicy.cli;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every subcommand of tlspolicyd: {@code --help} prints its usage and exits 0, an unknown
 * option is a usage error (2), what it needs is marked required, and its errors are in words,
 * never Java exception class names.
 */
class CliMatrixTest {

    @ParameterizedTest
    @ValueSource(strings = {"serve", "query", "doctor", "cache", "convert-config", "version"})
    void everySubcommandHasHelpAndRejectsUnknownOptions(String command) {
        for (String help : new String[] {"--help", "-h"}) {
            MainTest.Result r = MainTest.run(command, help);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().startsWith("Usage: tlspolicyd " + command), r.out());
            assertTrue(r.out().contains("-h, --help"), r.out());
        }
        // What the command needs is given, so that the unknown option is what is wrong.
        MainTest.Result r = command.equals("query") || command.equals("convert-config")
                ? MainTest.run(command, "--no-such-option", "x") : MainTest.run(command,
                "--no-such-option");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().startsWith("Unknown option: '--no-such-option'"), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"list", "show", "purge", "refresh"})
    void everyCacheSubcommandHasHelpAndSaysWhatItNeeds(String command) {
        MainTest.Result r = MainTest.run("cache", command, "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Usage: tlspolicyd cache " + command), r.out());
        assertTrue(r.out().contains("--control=SOCKET"), r.out());
        if (command.equals("purge") || command.equals("refresh")) {
            // Required, and so marked in the usage line (no brackets).
            assertTrue(r.out().contains(" --reason=TEXT "), r.out());
            r = MainTest.run("cache", command, "example.com");
            assertEquals(Main.EXIT_USAGE, r.code());
            assertTrue(r.err().startsWith("Missing required option: '--reason=TEXT'"), r.err());
        }
        r = MainTest.run("cache");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().startsWith("Usage: tlspolicyd cache"), r.err());
    }

    @Test
    void aCacheCommandWithoutADaemonSaysSoInWords(@TempDir Path dir) {
        MainTest.Result r = MainTest.run("cache", "list", "--control",
                dir.resolve("none.sock").toString());
        assertEquals(Main.EXIT_CONFIG, r.code());
        assertTrue(r.err().startsWith("tlspolicyd: cannot reach the daemon at "
                + dir.resolve("none.sock") + ": "), r.err());
        assertTrue(r.err().contains("is it running?"), r.err());
        assertFalse(r.err().matches("(?s).*\\b[A-Z]\\w*(Exception|Error)\\b.*"), r.err());
    }

    @Test
    void theTopLevelHelpListsEveryCommandAndItsExitCodes() {
        MainTest.Result r = MainTest.run("--help");
        assertEquals(0, r.code());
        for (String c : new String[] {"serve", "query", "doctor", "cache", "convert-config",
            "version"}) {
            assertTrue(r.out().contains("\n  " + c + " "), c + " in:\n" + r.out());
        }
        assertTrue(r.out().contains("Exit codes:"), r.out());
        assertEquals(Main.EXIT_USAGE, MainTest.run().code());
    }

    @Test
    void whatACommandNeedsIsRequired() {
        MainTest.Result r = MainTest.run("query");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().startsWith("Missing required parameter: 'KEY'"), r.err());
        r = MainTest.run("convert-config");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().startsWith("Missing required parameter"), r.err());
    }

    @Test
    void errorsAreInWordsNotExceptionNames(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.yml");
        for (String[] args : new String[][] {
            {"serve", "--config", missing.toString()},
            {"query", "--config", missing.toString(), "example.com"},
            {"doctor", "--config", missing.toString()},
            {"convert-config", missing.toString()}}) {
            MainTest.Result r = MainTest.run(args);
            assertEquals(Main.EXIT_CONFIG, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().startsWith("tlspolicyd: "), r.err());
            assertTrue(r.err().contains(missing.toString()), r.err());
            assertFalse(r.err().matches("(?s).*\\b[A-Z]\\w*(Exception|Error)\\b.*"), r.err());
        }
        Path unreadable = Files.writeString(dir.resolve("c.yml"), "socketmap: [");
        MainTest.Result r = MainTest.run("serve", "--config", unreadable.toString());
        assertEquals(Main.EXIT_CONFIG, r.code());
        assertFalse(r.err().matches("(?s).*\\b[A-Z]\\w*(Exception|Error)\\b.*"), r.err());
    }
}
