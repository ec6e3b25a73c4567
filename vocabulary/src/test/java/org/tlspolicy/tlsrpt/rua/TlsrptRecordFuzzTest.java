package org.tlspolicy.tlsrpt.rua;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz target for the TLSRPT record parser: TXT records come from other domains' DNS.
 * Whatever the record, every destination it yields parses again to itself and holds no
 * character that could end an SMTP command or a header line. The ordinary run replays {@code
 * src/test/resources/org/tlspolicy/tlsrpt/rua/TlsrptRecordFuzzTestInputs/}.
 */
class TlsrptRecordFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void recordsNeverThrow(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        TlsrptRecord.parse(text).ifPresent(r -> {
            assertTrue(r.rua().size() <= TlsrptRecord.MAX_DESTINATIONS);
            for (ReportDestination d : r.rua()) {
                assertEquals(d, ReportDestination.parse(d.uri()));
                if (d instanceof ReportDestination.Mail m) {
                    assertTrue(m.to().toString().chars().allMatch(c -> c > 32 && c < 127
                            && c != '<' && c != '>' || c == ' '), m.to().toString());
                }
            }
        });
        TlsrptRecord.select(List.of(text.split("\n", -1)));
    }
}
