package org.tlspolicy.socketmap;

import io.netty.util.AttributeKey;

/**
 * What {@link ConnectionLimit} needs to know of a connection to choose which one to close when
 * the limit is reached: who it belongs to, when it last sent a request, and whether it is
 * waiting for answers. Written by the connection's {@link SocketmapHandler} on its event loop,
 * read by the limit from another connection's.
 */
final class ConnectionActivity {

    static final AttributeKey<ConnectionActivity> KEY = AttributeKey.valueOf("activity");

    /** The peer: {@code ip:ADDRESS} for TCP, {@code uid:N} for a unix socket. */
    final String peer;
    private volatile long lastRequestNanos;
    private volatile int outstanding;

    ConnectionActivity(String peer) {
        this.peer = peer;
        this.lastRequestNanos = System.nanoTime();
    }

    void requested(int outstandingNow) {
        lastRequestNanos = System.nanoTime();
        outstanding = outstandingNow;
    }

    void outstanding(int n) {
        outstanding = n;
    }

    /** Requests received and not yet answered. */
    int outstanding() {
        return outstanding;
    }

    long lastRequestNanos() {
        return lastRequestNanos;
    }
}
