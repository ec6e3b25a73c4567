package org.tlspolicy.socketmap;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SocketmapReplyTest {

    private static String wire(SocketmapReply r) {
        return new String(r.encoded(), StandardCharsets.UTF_8);
    }

    @Test
    void encodesEachReplyAsSocketmapTable5Says() {
        assertEquals("9:NOTFOUND ,", wire(SocketmapReply.NOT_FOUND));
        assertEquals("12:OK dane-only,", wire(SocketmapReply.ok("dane-only")));
        assertEquals("15:TEMP dns failed,", wire(new SocketmapReply.Temp("dns failed")));
        assertEquals("12:TIMEOUT slow,", wire(new SocketmapReply.Timeout("slow")));
        assertEquals("8:PERM bad,", wire(new SocketmapReply.Perm("bad")));
    }

    @Test
    void countsLengthInBytesNotCharacters() {
        assertArrayEquals("8:PERM bü,".getBytes(StandardCharsets.UTF_8),
                new SocketmapReply.Perm("bü").encoded());
    }

    @Test
    void reasonsLoseControlCharactersAndAreCapped() {
        assertEquals("TEMP a b", new SocketmapReply.Temp("a\nb").payload());
        assertEquals(SocketmapReply.MAX_REASON_CHARS,
                new SocketmapReply.Perm("x".repeat(5000)).reason().length());
    }

    @Test
    void anOversizedPolicyBecomesTemp() {
        SocketmapReply r = SocketmapReply.ok("x".repeat(Netstring.MAX_REPLY_PAYLOAD));
        assertInstanceOf(SocketmapReply.Temp.class, r);
        assertEquals(Netstring.MAX_REPLY_PAYLOAD,
                SocketmapReply.ok("x".repeat(Netstring.MAX_REPLY_PAYLOAD - 3)).payload().length());
    }

    @Test
    void okDataMustBePrintable() {
        assertThrows(IllegalArgumentException.class, () -> SocketmapReply.ok("secure\nx"));
        assertThrows(IllegalArgumentException.class, () -> SocketmapReply.ok(""));
    }

    @Test
    void statusIsTheFirstWord() {
        assertEquals("NOTFOUND", SocketmapReply.NOT_FOUND.status());
        assertEquals("OK", SocketmapReply.ok("secure match=a").status());
    }
}
