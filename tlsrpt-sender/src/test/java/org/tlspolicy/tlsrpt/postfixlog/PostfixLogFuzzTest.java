package org.tlspolicy.tlsrpt.postfixlog;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Jazzer fuzz target for the Postfix log reader (syslog line, SMTP client events, session
 * assembly): the parser of what arrives from Postfix, and so from every MX it talked to (host
 * names, reasons and replies are the peers' words).
 *
 * <p>The ordinary test run replays the inputs under {@code src/test/resources/org/tlspolicy/
 * tlsrpt/postfixlog/PostfixLogFuzzTestInputs/} (real fixture lines); the {@code
 * fuzz-postfix-log} execution in tlsrpt-sender/pom.xml fuzzes with {@code JAZZER_FUZZ=1}.
 */
class PostfixLogFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void readerNeverThrowsAndSessionsAreWhole(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        List<TlsSession> sessions = new ArrayList<>();
        SessionAssembler assembler = new SessionAssembler(sessions::add);
        for (String line : text.split("\n", -1)) {
            SyslogLine.parse(line, Instant.parse("2026-12-01T00:00:00Z"), ZoneOffset.UTC)
                    .ifPresent(assembler::accept);
        }
        for (TlsSession s : sessions) {
            assertNotNull(s.time());
            assertNotNull(s.sender());
            assertNotNull(s.facts());
            assertFalse(s.domain().isEmpty() && s.mx().host().isEmpty(), s.toString());
            assertNotNull(s.mx().ip());
        }
    }
}
