package org.tlspolicy.config;

import org.tlspolicy.socketmap.ListenAddress;
import org.tlspolicy.socketmap.SocketmapLimits;

import java.time.Duration;
import java.util.List;

/**
 * The daemon's validated configuration. Built only by {@link ConfigLoader}, so every instance
 * has passed validation.
 *
 * @param mapName       the socketmap map name Postfix asks for
 * @param listen        where to listen; never empty
 * @param limits        per-connection limits
 * @param threads       event loop threads, 0 for one per processor
 * @param shutdownGrace how long lookups in flight may take to finish on SIGTERM
 * @param logLevel      the SLF4J level name
 */
public record DaemonConfig(String mapName, List<ListenAddress> listen, SocketmapLimits limits,
                           int threads, Duration shutdownGrace, String logLevel) {

    public DaemonConfig {
        listen = List.copyOf(listen);
    }
}
