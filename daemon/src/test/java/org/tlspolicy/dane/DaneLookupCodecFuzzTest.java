package org.tlspolicy.dane;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;

/**
 * Jazzer fuzz target for the parser of persisted DANE results (text derived from DNS answers,
 * read back from a store that may be damaged) and of TLSA presentation text. The ordinary run
 * replays the corpus beside this class; the {@code fuzz-dane} execution in daemon/pom.xml
 * fuzzes it briefly. A parsed result must keep the invariants the decision relies on.
 */
class DaneLookupCodecFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void storedResult(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        DaneLookupCodecProperties.checkInvariants(DaneLookupCodec.parse(text));
        Tlsa.parse(text).ifPresent(t -> Tlsa.parse(t.toString()).orElseThrow());
    }
}
