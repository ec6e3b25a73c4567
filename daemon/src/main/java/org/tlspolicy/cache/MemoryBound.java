package org.tlspolicy.cache;

import com.github.benmanes.caffeine.cache.Weigher;

import java.util.function.ToLongFunction;

/**
 * The memory tier's two bounds in one Caffeine weight: a number of entries ({@code
 * cache.max_entries}) and an estimate of their heap ({@code cache.max_memory_mib}). An entry
 * weighs its estimated bytes, but never less than {@code maxBytes / maxEntries}: then the total
 * weight staying within {@code maxBytes} also keeps the count within {@code maxEntries}, and
 * entries that hold more than their share (a 64 KiB policy) count for what they hold. Eviction
 * is Caffeine's, by weight: when either bound is reached, entries go, never the daemon.
 */
public final class MemoryBound {

    private MemoryBound() {
    }

    /** The weigher for values whose estimated heap {@code bytes} tells. */
    public static <V> Weigher<String, V> weigher(long maxBytes, long maxEntries,
                                                 ToLongFunction<V> bytes) {
        long floor = Math.max(1, maxBytes / Math.max(1, maxEntries));
        return (key, value) -> (int) Math.min(Integer.MAX_VALUE,
                Math.max(floor, 2L * key.length() + bytes.applyAsLong(value)));
    }
}
