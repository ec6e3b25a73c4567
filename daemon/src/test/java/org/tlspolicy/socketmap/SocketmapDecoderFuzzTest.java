package org.tlspolicy.socketmap;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz target for the socketmap request decoder: the parser that faces the network.
 *
 * <p>The ordinary test run replays the inputs under
 * {@code src/test/resources/org/tlspolicy/socketmap/SocketmapDecoderFuzzTestInputs/}; the
 * {@code fuzz} execution in daemon/pom.xml then fuzzes with {@code JAZZER_FUZZ=1} for
 * {@code maxDuration}, so every build fuzzes briefly. A finding fails the build and is saved
 * beside the corpus, where it becomes a regression input.
 */
class SocketmapDecoderFuzzTest {

    @FuzzTest(maxDuration = "30s")
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
