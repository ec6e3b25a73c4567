package org.tlspolicy.socketmap;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketmapDecoderTest {

    private final SocketmapDecoder decoder = new SocketmapDecoder();
    private final EmbeddedChannel channel = new EmbeddedChannel(decoder);

    private List<SocketmapFrame> feed(byte[]... chunks) {
        for (byte[] chunk : chunks) {
            channel.writeInbound(Unpooled.wrappedBuffer(chunk));
        }
        List<SocketmapFrame> out = new ArrayList<>();
        for (Object o; (o = channel.readInbound()) != null; ) {
            out.add((SocketmapFrame) o);
        }
        return out;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void decodesOneRequest() {
        assertEquals(List.of(new SocketmapFrame.Request("postfix", "example.com")),
                feed(ascii("19:postfix example.com,")));
        assertFalse(decoder.hasPartialRequest());
    }

    @Test
    void acceptsLeadingZerosInTheLength() {
        assertEquals(List.of(new SocketmapFrame.Request("postfix", "example.com")),
                feed(ascii("00019:postfix example.com,")));
    }

    @Test
    void reassemblesARequestSentOneByteAtATime() {
        byte[] wire = ascii("19:postfix example.com,");
        List<SocketmapFrame> out = new ArrayList<>();
        for (int i = 0; i < wire.length; i++) {
            out.addAll(feed(new byte[] {wire[i]}));
            if (i < wire.length - 1) {
                assertTrue(out.isEmpty(), "nothing before the comma");
                assertTrue(decoder.hasPartialRequest());
            }
        }
        assertEquals(List.of(new SocketmapFrame.Request("postfix", "example.com")), out);
        assertFalse(decoder.hasPartialRequest());
    }

    @Test
    void decodesPipelinedRequestsInOrder() {
        assertEquals(List.of(
                        new SocketmapFrame.Request("postfix", "a.example"),
                        new SocketmapFrame.Request("postfix", "b.example"),
                        new SocketmapFrame.Request("other", "c.example")),
                feed(ascii("17:postfix a.example,17:postfix b.example,15:other c.example,")));
    }

    @Test
    void keyMayContainSpacesAndBeEmpty() {
        assertEquals(List.of(new SocketmapFrame.Request("postfix", "a b"),
                        new SocketmapFrame.Request("postfix", "")),
                feed(ascii("11:postfix a b,8:postfix ,")));
    }

    @Test
    void acceptsExactlyTheLargestRequest() {
        String key = "k".repeat(Netstring.MAX_REQUEST_PAYLOAD - "postfix ".length());
        List<SocketmapFrame> out = feed(Netstring.encode("postfix " + key));
        assertEquals(List.of(new SocketmapFrame.Request("postfix", key)), out);
    }

    @Test
    void refusesOneByteMoreBeforeReadingThePayload() {
        // Only the length prefix is sent: the refusal must not wait for 10001 bytes.
        List<SocketmapFrame> out = feed(ascii("10001:"));
        assertEquals(1, out.size());
        assertEquals("request longer than 10000 bytes",
                assertInstanceOf(SocketmapFrame.Malformed.class, out.get(0)).reason());
    }

    @Test
    void refusesNonDigitsInTheLength() {
        SocketmapFrame f = feed(ascii("1x:postfix a,")).get(0);
        assertTrue(assertInstanceOf(SocketmapFrame.Malformed.class, f).reason()
                .startsWith("bad netstring length"));
    }

    @Test
    void refusesAnEmptyLength() {
        assertInstanceOf(SocketmapFrame.Malformed.class, feed(ascii(":postfix a,")).get(0));
    }

    @Test
    void refusesEndlessLeadingZeros() {
        SocketmapFrame f = feed(ascii("0".repeat(17))).get(0);
        assertTrue(assertInstanceOf(SocketmapFrame.Malformed.class, f).reason()
                .contains("more than 16 digits"));
    }

    @Test
    void refusesAMissingComma() {
        SocketmapFrame f = feed(ascii("9:postfix a;")).get(0);
        assertTrue(assertInstanceOf(SocketmapFrame.Malformed.class, f).reason()
                .contains("missing ','"));
    }

    @Test
    void refusesARequestWithoutSpace() {
        assertInstanceOf(SocketmapFrame.Malformed.class, feed(ascii("7:postfix,")).get(0));
    }

    @Test
    void refusesAnEmptyMapName() {
        assertInstanceOf(SocketmapFrame.Malformed.class, feed(ascii("2: a,")).get(0));
    }

    @Test
    void refusesAMapNameThatIsNotUtf8() {
        byte[] wire = {'3', ':', (byte) 0xff, ' ', 'a', ','};
        SocketmapFrame f = feed(wire).get(0);
        assertEquals("bad request: map name is not UTF-8",
                assertInstanceOf(SocketmapFrame.Malformed.class, f).reason());
    }

    @Test
    void decodesAKeyThatIsNotUtf8WithReplacementCharacters() {
        byte[] wire = {'3', ':', 'p', ' ', (byte) 0xff, ','};
        assertEquals(List.of(new SocketmapFrame.Request("p", "\ufffd")), feed(wire));
    }

    @Test
    void decodesUtf8Keys() {
        byte[] payload = "postfix bücher.example".getBytes(StandardCharsets.UTF_8);
        byte[] wire = Netstring.encode("postfix bücher.example");
        assertEquals(payload.length + 4, wire.length);
        assertEquals(List.of(new SocketmapFrame.Request("postfix", "bücher.example")),
                feed(wire));
    }

    @Test
    void discardsEverythingAfterMalformedInput() {
        List<SocketmapFrame> out = feed(ascii("x:garbage,19:postfix example.com,"),
                ascii("19:postfix example.com,"));
        assertEquals(1, out.size());
        assertInstanceOf(SocketmapFrame.Malformed.class, out.get(0));
        assertFalse(decoder.hasPartialRequest());
    }

    @Test
    void answersEarlierRequestsOfTheSameReadBeforeTheMalformedOne() {
        List<SocketmapFrame> out = feed(ascii("17:postfix a.example,zz"));
        assertEquals(2, out.size());
        assertEquals(new SocketmapFrame.Request("postfix", "a.example"), out.get(0));
        assertInstanceOf(SocketmapFrame.Malformed.class, out.get(1));
    }
}
