package org.tlspolicy.tlsrpt.received;

import com.code_intelligence.jazzer.junit.FuzzTest;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz target for the report parser: report bodies come from anyone who can send mail
 * or POST to the endpoint. Whatever the bytes, a report or a {@link ReportRejected}; a report
 * read has non-negative counts and policy domains that are host names. The ordinary run
 * replays {@code src/test/resources/org/tlspolicy/tlsrpt/received/ReportJsonFuzzTestInputs/}.
 */
class ReportJsonFuzzTest {

    private static final ReportJson JSON = new ReportJson(new ReportLimits(64 * 1024,
            256 * 1024, 16, 4096, 100, 100));

    @FuzzTest(maxDuration = "15s")
    void reportsNeverThrow(byte[] input) {
        try {
            ReceivedReport r = JSON.parse(input);
            for (ReceivedReport.Policy p : r.policies()) {
                assertTrue(p.successful() >= 0 && p.failed() >= 0);
                assertTrue(p.domain().chars().allMatch(c -> c == '.' || c == '-'
                        || Character.isLetterOrDigit(c)), p.domain());
                p.failures().forEach(f -> assertTrue(f.count() >= 0));
            }
            assertTrue(!r.end().isBefore(r.start()));
        } catch (ReportRejected expected) {
            // refused, with a reason
        }
    }
}
