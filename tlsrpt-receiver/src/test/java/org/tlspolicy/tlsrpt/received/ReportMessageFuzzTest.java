package org.tlspolicy.tlsrpt.received;

import com.code_intelligence.jazzer.junit.FuzzTest;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz target for the MIME walk of report mail: whatever the mail, a report part within
 * the bound or a {@link ReportRejected}. The ordinary run replays {@code
 * src/test/resources/org/tlspolicy/tlsrpt/received/ReportMessageFuzzTestInputs/}.
 */
class ReportMessageFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void mailsNeverThrow(byte[] input) {
        try {
            ReportMessage m = ReportMessage.read(input, 4096);
            assertTrue(m.report().length <= 4096);
        } catch (ReportRejected expected) {
            // refused, with a reason
        }
    }
}
