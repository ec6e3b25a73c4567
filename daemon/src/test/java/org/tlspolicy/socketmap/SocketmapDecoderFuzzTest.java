package org.tlspolicy.socketmap;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz target for the socketmap request decoder: the parser that faces the network.
 *
 * <p>In a normal test run this replays the inputs under
 * {@code src/test/resources/org/tlspolicy/socketmap/SocketmapDecoderFuzzTestInputs/} and a short
 * fuzzing run is made by {@code scripts/fuzz}; {@code JAZZER_FUZZ=1 mvn test
 * -Dtest=SocketmapDecoderFuzzTest} fuzzes for as long as {@code maxDuration}.
 */
class SocketmapDecoderFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void decoderNeverThrowsAndNeverOverreads(byte[] input) {
        ByteBuf in = Unpooled.wrappedBuffer(input);
        int lastReader = -1;
        while (in.isReadable() && in.readerIndex() != lastReader) {
            lastReader = in.readerIndex();
            SocketmapFrame frame = SocketmapDecoder.decodeOne(in);
            if (frame == null || frame instanceof SocketmapFrame.Malformed) {
                break;
            }
            SocketmapFrame.Request request = (SocketmapFrame.Request) frame;
            assertTrue(!request.mapName().isEmpty());
            assertTrue(in.readerIndex() - lastReader <= Netstring.MAX_REQUEST_PAYLOAD
                    + Netstring.MAX_LENGTH_DIGITS + 2, "a request larger than the limit");
        }
    }
}
