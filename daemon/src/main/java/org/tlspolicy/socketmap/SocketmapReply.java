package org.tlspolicy.socketmap;

import java.nio.charset.StandardCharsets;

/**
 * One socketmap reply, as socketmap_table(5) defines them.
 *
 * <p>Every instance is well-formed by construction: reasons and data are stripped of control
 * characters (a newline or NUL in a reply would corrupt Postfix's log lines or its parsing) and
 * the encoded payload never exceeds {@link Netstring#MAX_REPLY_PAYLOAD}. An {@code OK} whose data
 * would not fit becomes a {@code TEMP}, so the mail waits instead of being sent under a policy
 * Postfix never saw.
 */
public sealed interface SocketmapReply {

    /** The longest reason we send; Postfix logs reasons, and nobody reads a longer one. */
    int MAX_REASON_CHARS = 500;

    /** The reply payload: status word, one space, data. */
    String payload();

    /** The reply framed as a netstring, ready for the wire. */
    default byte[] encoded() {
        return Netstring.encode(payload());
    }

    /** The status word: OK, NOTFOUND, TEMP, TIMEOUT or PERM. */
    default String status() {
        String p = payload();
        return p.substring(0, p.indexOf(' '));
    }

    /**
     * A found value; Postfix uses {@code data} as the TLS policy. Not a record only because it
     * keeps its wire form: a policy reply is made once per decision and sent for every cached
     * lookup, so it is framed once, not per lookup.
     */
    final class Ok implements SocketmapReply {
        private final String data;
        private final byte[] encoded;

        public Ok(String data) {
            if (data.isEmpty() || !Text.isPrintable(data)) {
                throw new IllegalArgumentException("OK data must be non-empty printable text");
            }
            this.data = data;
            this.encoded = Netstring.encode(payload());
        }

        public String data() {
            return data;
        }

        @Override
        public String payload() {
            return "OK " + data;
        }

        @Override
        public byte[] encoded() {
            return encoded.clone();
        }

        /** The wire form without a copy, for the encoder, which only reads it. */
        byte[] wire() {
            return encoded;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Ok other && other.data.equals(data);
        }

        @Override
        public int hashCode() {
            return data.hashCode();
        }

        @Override
        public String toString() {
            return "Ok[data=" + data + "]";
        }
    }

    /** No value for the key; Postfix falls back to its default TLS security level. */
    record NotFound() implements SocketmapReply {
        private static final byte[] ENCODED = Netstring.encode("NOTFOUND ");

        @Override
        public String payload() {
            return "NOTFOUND ";
        }

        @Override
        public byte[] encoded() {
            return ENCODED.clone();
        }
    }

    /** A temporary failure; Postfix defers the mail and tries again later. */
    record Temp(String reason) implements SocketmapReply {
        public Temp {
            reason = Text.sanitize(reason);
        }

        @Override
        public String payload() {
            return "TEMP " + reason;
        }
    }

    /** The lookup took too long; Postfix treats it like TEMP. */
    record Timeout(String reason) implements SocketmapReply {
        public Timeout {
            reason = Text.sanitize(reason);
        }

        @Override
        public String payload() {
            return "TIMEOUT " + reason;
        }
    }

    /** A permanent error: a malformed request or a map that does not exist. */
    record Perm(String reason) implements SocketmapReply {
        public Perm {
            reason = Text.sanitize(reason);
        }

        @Override
        public String payload() {
            return "PERM " + reason;
        }
    }

    /** The shared NOTFOUND reply. */
    NotFound NOT_FOUND = new NotFound();

    /**
     * An OK reply, or a TEMP when {@code data} would not fit in a reply Postfix accepts.
     */
    static SocketmapReply ok(String data) {
        // "OK " plus data, in UTF-8 bytes, must fit in the reply limit.
        if (data.getBytes(StandardCharsets.UTF_8).length + 3 > Netstring.MAX_REPLY_PAYLOAD) {
            return new Temp("policy longer than the socketmap reply limit");
        }
        return new Ok(data);
    }

    /** Reply text rules shared by the variants. */
    final class Text {
        private Text() {
        }

        static boolean isPrintable(String s) {
            for (int i = 0; i < s.length(); i++) {
                if (Character.isISOControl(s.charAt(i))) {
                    return false;
                }
            }
            return true;
        }

        static String sanitize(String reason) {
            StringBuilder b = new StringBuilder(Math.min(reason.length(), MAX_REASON_CHARS));
            for (int i = 0; i < reason.length() && b.length() < MAX_REASON_CHARS; i++) {
                char c = reason.charAt(i);
                b.append(Character.isISOControl(c) ? ' ' : c);
            }
            return b.toString();
        }
    }
}
