package org.tlspolicy.tlsrpt.deliver;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Jazzer fuzz target for the TLSRPT record parser: TXT records come from other domains' DNS.
 * The ordinary run replays {@code src/test/resources/org/tlspolicy/tlsrpt/deliver/
 * TlsrptRecordFuzzTestInputs/}.
 */
class TlsrptRecordFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void recordsNeverThrow(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        TlsrptRecord.parse(text).ifPresent(r -> assertFalse(r.rua().isEmpty()));
        TlsrptRecord.select(List.of(text.split("\n", -1)));
    }
}
