package org.tlspolicy.tlsrpt.datagram;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.time.LocalDate;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Jazzer fuzz target for the TLSRPT datagram parser: anything a local process can write to the
 * socket. The ordinary run replays {@code src/test/resources/org/tlspolicy/tlsrpt/datagram/
 * DatagramFuzzTestInputs/}.
 */
class DatagramFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void datagramsNeverThrow(byte[] input) {
        if (DatagramParser.parse(input) instanceof DatagramParser.Parsed.Datagram d) {
            assertFalse(DatagramCollector.counts(d.datagram(), LocalDate.EPOCH).isEmpty());
        }
    }
}
