package org.tlspolicy.socketmap;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketmapDecoderProperties {

    @Provide
    Arbitrary<SocketmapFrame.Request> requests() {
        Arbitrary<String> names = Arbitraries.strings().withCharRange('a', 'z')
                .withChars('_', '-', '.').ofMinLength(1).ofMaxLength(20);
        // Any text at all, spaces and non-ASCII included: the key is everything after the
        // first space. Surrogates excluded, since a lone one is not valid UTF-8 to begin with.
        Arbitrary<String> keys = Arbitraries.strings()
                .withCharRange('\u0000', '\ud7ff').withCharRange('\ue000', '\uffff')
                .ofMaxLength(300);
        return Combinators.combine(names, keys).as(SocketmapFrame.Request::new);
    }

    private static List<SocketmapFrame> decodeInChunks(byte[] wire, List<Integer> cuts) {
        EmbeddedChannel channel = new EmbeddedChannel(new SocketmapDecoder());
        int[] points = cuts.stream().mapToInt(c -> Math.floorMod(c, wire.length + 1))
                .sorted().toArray();
        int from = 0;
        for (int point : points) {
            channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(wire, from, point)));
            from = point;
        }
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(wire, from, wire.length)));
        List<SocketmapFrame> out = new ArrayList<>();
        for (Object o; (o = channel.readInbound()) != null; ) {
            out.add((SocketmapFrame) o);
        }
        channel.finishAndReleaseAll();
        return out;
    }

    @Property
    void anySequenceOfRequestsSurvivesAnySplitting(
            @ForAll @Size(max = 8) List<SocketmapFrame.@From("requests") Request> requests,
            @ForAll @Size(max = 10) List<@IntRange(min = 0, max = 100_000) Integer> cuts) {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (SocketmapFrame.Request r : requests) {
            wire.writeBytes(Netstring.encode(r.mapName() + " " + r.key()));
        }
        assertEquals(requests, decodeInChunks(wire.toByteArray(), cuts));
    }

    @Property
    void arbitraryBytesNeverThrowAndMalformedIsLast(
            @ForAll @Size(max = 400) byte[] garbage,
            @ForAll @Size(max = 5) List<@IntRange(min = 0, max = 1000) Integer> cuts) {
        List<SocketmapFrame> out = decodeInChunks(garbage, cuts);
        for (int i = 0; i < out.size() - 1; i++) {
            assertInstanceOf(SocketmapFrame.Request.class, out.get(i),
                    "nothing is decoded after a malformed frame");
        }
    }

    @Property
    void aTooLongLengthIsRefusedFromItsDigitsAlone(
            @ForAll @IntRange(min = Netstring.MAX_REQUEST_PAYLOAD + 1, max = Integer.MAX_VALUE)
            int length,
            @ForAll @IntRange(min = 0, max = 5) int leadingZeros) {
        byte[] prefix = ("0".repeat(leadingZeros) + length + ":").getBytes();
        List<SocketmapFrame> out = decodeInChunks(prefix, List.of());
        assertEquals(1, out.size());
        assertInstanceOf(SocketmapFrame.Malformed.class, out.get(0));
    }

    @Property
    void repliesAreAlwaysWellFormedNetstringsWithinTheLimit(@ForAll String reason,
                                                           @ForAll @IntRange(max = 4) int kind) {
        SocketmapReply reply = switch (kind) {
            case 0 -> new SocketmapReply.Temp(reason);
            case 1 -> new SocketmapReply.Timeout(reason);
            case 2 -> new SocketmapReply.Perm(reason);
            case 3 -> SocketmapReply.NOT_FOUND;
            default -> reason.isEmpty() || reason.chars().anyMatch(Character::isISOControl)
                    ? SocketmapReply.NOT_FOUND : SocketmapReply.ok(reason);
        };
        byte[] wire = reply.encoded();
        String text = new String(wire, java.nio.charset.StandardCharsets.UTF_8);
        int colon = text.indexOf(':');
        int length = Integer.parseInt(text.substring(0, colon));
        assertEquals(wire.length, colon + 1 + length + 1);
        assertEquals(',', wire[wire.length - 1]);
        assertTrue(length <= Netstring.MAX_REPLY_PAYLOAD);
        String payload = text.substring(colon + 1, text.length() - 1);
        assertTrue(payload.chars().noneMatch(Character::isISOControl));
        assertTrue(payload.matches("(?s)(OK|NOTFOUND|TEMP|TIMEOUT|PERM) .*"));
    }
}
