package org.tlspolicy.log;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The journal's line format and levels that change while running, as a reload needs. */
class JournalLogTest {

    @Test
    void linesAreTheLevelAndTheMessageWithSlf4jLevelNames() {
        JournalLog.LineFormatter f = new JournalLog.LineFormatter();
        assertEquals("WARN mta-sts refresh failed domain=example.com\n",
                f.format(new LogRecord(Level.WARNING, "mta-sts refresh failed "
                        + "domain=example.com")));
        assertEquals("ERROR x\n", f.format(new LogRecord(Level.SEVERE, "x")));
        assertEquals("DEBUG x\n", f.format(new LogRecord(Level.FINE, "x")));
        assertEquals("TRACE x\n", f.format(new LogRecord(Level.FINEST, "x")));
        LogRecord thrown = new LogRecord(Level.SEVERE, "lookup failed key=\"a\"");
        thrown.setThrown(new IOException("boom"));
        String text = f.format(thrown);
        assertTrue(text.startsWith("ERROR lookup failed key=\"a\"\njava.io.IOException: boom\n"
                + "\tat "), text);
    }

    @Test
    void theLevelChangesWhileRunningAndStandardErrorStaysOpen() {
        JournalLog.install("warn");
        Logger some = Logger.getLogger("org.tlspolicy.decision");
        assertFalse(some.isLoggable(Level.INFO));
        assertTrue(some.isLoggable(Level.WARNING));
        JournalLog.level("debug");
        assertTrue(some.isLoggable(Level.FINE));
        assertFalse(Logger.getLogger("io.netty.channel").isLoggable(Level.INFO),
                "Netty stays at warn");
        JournalLog.level("info");
        assertFalse(some.isLoggable(Level.FINE));
        // The handler writes to System.out; System.err must stay usable (error messages).
        System.err.print("");
        assertFalse(System.err.checkError());
        assertThrows(IllegalArgumentException.class, () -> JournalLog.level("verbose"));
    }
}
