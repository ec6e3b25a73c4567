package org.tlspolicy.socketmap;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz target for the reply parser of {@link SocketmapClient}: the bytes a socketmap
 * server (or whatever answers on its port) sends back. Whatever arrives is a payload, "more
 * needed", or an IOException, never another exception; a payload is within the limit and is
 * exactly what the input framed. The ordinary run replays
 * {@code src/test/resources/org/tlspolicy/socketmap/SocketmapReplyFuzzTestInputs/}; the
 * {@code fuzz} execution in vocabulary/pom.xml fuzzes briefly with {@code JAZZER_FUZZ=1}.
 */
class SocketmapReplyFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void replyIsReadOrRefused(byte[] input) {
        String payload;
        try {
            payload = SocketmapClient.complete(input);
        } catch (IOException refused) {
            return;
        }
        if (payload == null) {
            return;
        }
        int colon = indexOf(input, (byte) ':');
        long declared = Long.parseLong(new String(input, 0, colon, StandardCharsets.US_ASCII));
        assertTrue(declared <= Netstring.MAX_REPLY_PAYLOAD, "over the limit: " + declared);
        byte[] framed = Arrays.copyOfRange(input, colon + 1, colon + 1 + (int) declared);
        assertEquals(',', input[colon + 1 + (int) declared], "a payload ends at its comma");
        // What was framed, decoded as UTF-8 (malformed bytes replaced, as the JDK does).
        assertEquals(new String(framed, StandardCharsets.UTF_8), payload);
    }

    private static int indexOf(byte[] b, byte c) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
