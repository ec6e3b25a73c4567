package org.tlspolicy.tlsrpt;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TlsrptModeTest {

    @Test
    void versionsFrom310OnReadTlsrptAttributes() {
        assertFalse(TlsrptMode.supports("3.7.11"));
        assertFalse(TlsrptMode.supports("3.9.4"));
        assertFalse(TlsrptMode.supports("2.11.3"));
        assertTrue(TlsrptMode.supports("3.10.0"));
        assertTrue(TlsrptMode.supports("3.10.5"));
        assertTrue(TlsrptMode.supports("3.11-20250101"));
        assertTrue(TlsrptMode.supports("4.0.0"));
        assertFalse(TlsrptMode.supports("garbage"));
        assertFalse(TlsrptMode.supports(""));
    }

    @Test
    void offIsOffWithoutAskingPostfix() {
        assertEquals(TlsrptMode.OFF, TlsrptMode.of("off"));
    }

    @Test
    void autoAsksTheRealPostconf() throws Exception {
        // scripts/test installs Debian 12's Postfix 3.7: auto must come out off, saying why.
        TlsrptMode auto = TlsrptMode.of("auto");
        if (Files.isExecutable(Path.of("/usr/sbin/postconf"))) {
            assertFalse(auto.enabled(), auto.why());
            assertTrue(auto.why().startsWith("tlsrpt: auto, Postfix 3."), auto.why());
            assertTrue(auto.why().endsWith("predates TLSRPT (3.10)"), auto.why());
        } else {
            assertEquals("tlsrpt: auto, postconf not found", auto.why());
        }
        assertTrue(TlsrptMode.of("on").enabled());
    }
}
