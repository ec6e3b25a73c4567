package org.tlspolicy.socketmap;

/**
 * What the decoder makes of the bytes of one request: a request, or the reason it is not one.
 * Malformed input is a value, not an exception, so the handler answers it like any request.
 */
public sealed interface SocketmapFrame {

    /**
     * A well-formed request. {@code key} is decoded as UTF-8 with replacement characters for
     * invalid bytes: such a key can never be a domain name, and the table says so.
     */
    record Request(String mapName, String key) implements SocketmapFrame {
    }

    /**
     * Input that is not a socketmap request. The connection cannot be resynchronised after it,
     * so the handler answers PERM with {@code reason} and closes.
     */
    record Malformed(String reason) implements SocketmapFrame {
    }
}
