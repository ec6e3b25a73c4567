package org.tlspolicy.socketmap;

import java.time.Duration;

/**
 * Per-server limits that keep one client from harming the others.
 *
 * @param maxConnections connections beyond this are closed as soon as they are accepted
 * @param idleTimeout    a connection with no request for this long is closed; longer than
 *                       Postfix's own 10 s reuse limit so that Postfix, not we, closes first
 * @param requestTimeout a request begun but not finished within this is a stalled client, and
 *                       its connection is closed
 * @param lookupTimeout  a lookup not answered within this gets TIMEOUT, well inside Postfix's
 *                       own 100 s limit so the reason reaches its log
 * @param maxPipelined   requests a client may have outstanding before we stop reading from it
 */
public record SocketmapLimits(int maxConnections, Duration idleTimeout, Duration requestTimeout,
                              Duration lookupTimeout, int maxPipelined) {

    public SocketmapLimits {
        if (maxConnections < 1 || maxPipelined < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }
}
