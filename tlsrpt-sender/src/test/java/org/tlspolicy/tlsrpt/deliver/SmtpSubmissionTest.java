package org.tlspolicy.tlsrpt.deliver;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Issue 34, finding 1, defence in depth: whatever reaches the SMTP client, a command with a
 * line end or any other control character in it is refused before a byte is written.
 */
class SmtpSubmissionTest {

    @Test
    void commandsWithLineEndsAreRefused() throws Exception {
        for (String bad : List.of("RCPT TO:<a@b.test>\r\nDATA", "RCPT TO:<a@b.test>\nDATA",
                "RCPT TO:<a@b.test\r>", "MAIL FROM:<a\u0000@b.test>", "RCPT TO:<ä@b.test>",
                "EHLO x\tDATA")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThrows(IllegalArgumentException.class, () -> SmtpSubmission.command(out, bad),
                    bad);
            assertEquals(0, out.size(), "nothing written for " + bad);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SmtpSubmission.command(out, "RCPT TO:<\"a b\"@b.test>");
        assertEquals("RCPT TO:<\"a b\"@b.test>\r\n", out.toString());
    }
}
