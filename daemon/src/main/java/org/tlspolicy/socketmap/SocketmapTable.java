package org.tlspolicy.socketmap;

import java.util.concurrent.CompletableFuture;

/**
 * What a socketmap server serves: one or more named maps. Implementations must never complete
 * the future exceptionally for expected failures; those are TEMP or TIMEOUT replies.
 */
@FunctionalInterface
public interface SocketmapTable {

    /** Looks {@code key} up in the map called {@code mapName}. */
    CompletableFuture<SocketmapReply> lookup(String mapName, String key);
}
