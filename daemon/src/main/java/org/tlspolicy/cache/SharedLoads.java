package org.tlspolicy.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Loads of one key that are asked for together share one load: the first caller starts it, the
 * others get the same future until it completes. A failed load becomes a value ({@code onError}),
 * so no caller ever sees an exceptional completion, and {@code keep} stores the value (in
 * memory, say) before any caller sees it, so that a lookup arriving just after finds it there.
 */
public final class SharedLoads<V> {

    private final ConcurrentHashMap<String, CompletableFuture<V>> running =
            new ConcurrentHashMap<>();

    /** The load of {@code key}, started with {@code load} unless one is running. */
    public CompletableFuture<V> load(String key, Supplier<CompletableFuture<V>> load,
                                     Function<Throwable, V> onError, Consumer<V> keep) {
        CompletableFuture<V> promise = new CompletableFuture<>();
        CompletableFuture<V> already = running.putIfAbsent(key, promise);
        if (already != null) {
            return already;
        }
        load.get().whenComplete((value, error) -> {
            V result = error == null ? value : onError.apply(error);
            keep.accept(result);
            running.remove(key, promise);
            promise.complete(result);
        });
        return promise;
    }
}
