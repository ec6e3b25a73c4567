package org.tlspolicy.socketmap;

import java.nio.charset.StandardCharsets;

/**
 * Netstring framing and the size limits of Postfix's socketmap protocol.
 *
 * <p>socketmap_table(5): a request is the netstring {@code LEN:NAME KEY,} and a reply the
 * netstring {@code LEN:STATUS DATA,}, where LEN is the decimal byte length of what lies between
 * the colon and the comma. Postfix refuses requests over 10000 bytes and replies over 100000
 * bytes ({@code socketmap_max_reply}); we hold ourselves to the same numbers so that nothing we
 * send can be refused by the client.
 */
public final class Netstring {

    /** socketmap_table(5): the largest request payload Postfix will send. */
    public static final int MAX_REQUEST_PAYLOAD = 10_000;

    /** socketmap_table(5): the largest reply payload Postfix will accept. */
    public static final int MAX_REPLY_PAYLOAD = 100_000;

    /**
     * How many characters the length prefix may have. Postfix accepts leading zeros, so we do
     * too, but a prefix this long can only be garbage or an attack: ten thousand fits in five.
     */
    public static final int MAX_LENGTH_DIGITS = 16;

    private Netstring() {
    }

    /** Frames {@code payload} as a netstring. */
    public static byte[] encode(String payload) {
        byte[] body = payload.getBytes(StandardCharsets.UTF_8);
        byte[] prefix = (body.length + ":").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[prefix.length + body.length + 1];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(body, 0, out, prefix.length, body.length);
        out[out.length - 1] = ',';
        return out;
    }
}
