package org.tlspolicy.bench;

import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.mtasts.StsCache;
import org.tlspolicy.mtasts.StsResolver;
import org.tlspolicy.mtasts.StsState;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Heap taken by N cached MTA-STS policies in the daemon's in-memory cache, the way the daemon
 * holds them: N policies are written to a policy store file, then looked up once each through
 * {@link StsCache} (which reads them back from the store into memory, exactly as after a
 * restart). Heap in use after a full GC, before and after, gives bytes per entry. Run it with
 * a heap limit to show that N entries fit in it:
 *
 * <pre>
 *   java -Xmx512m -cp bench/target/tlspolicy-bench.jar org.tlspolicy.bench.CacheMemory 1000000
 * </pre>
 *
 * Policies are typical: enforce, two mx patterns (a host and a wildcard), one week max_age.
 */
public final class CacheMemory {

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Path dir = Files.createTempDirectory("cache-memory");
        Path file = dir.resolve("cache.db");
        StoreFiller.fill(file, n);
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            DnsClient nowhere = new DnsClient(List.of(new InetSocketAddress("127.0.0.1", 9)),
                    Duration.ofMillis(100), 1);
            StsCache cache = new StsCache(new StsResolver(nowhere, null), store,
                    new StsCache.Settings(n + 1000, (n + 1000) * 4096L, Duration.ofMinutes(5), Duration.ofMinutes(1),
                            Duration.ofHours(1), 5), System::currentTimeMillis);
            long before = usedAfterGc();
            long start = System.nanoTime();
            List<CompletableFuture<StsState>> batch = new ArrayList<>();
            int policies = 0;
            for (int i = 0; i < n; i++) {
                batch.add(cache.lookup("domain" + i + ".example"));
                if (batch.size() == 10_000 || i == n - 1) {
                    for (CompletableFuture<StsState> f : batch) {
                        if (f.get(60, TimeUnit.SECONDS) instanceof StsState.Policy) {
                            policies++;
                        }
                    }
                    batch.clear();
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long after = usedAfterGc();
            if (policies != n || cache.size() < n) {
                throw new IllegalStateException("expected " + n + " policies in memory, got "
                        + policies + " (size " + cache.size() + ")");
            }
            System.out.printf(Locale.ROOT, "entries=%d heap_before_mb=%.1f heap_after_mb=%.1f "
                            + "bytes_per_entry=%.0f max_heap_mb=%.0f load_s=%.1f%n", n,
                    before / 1048576.0, after / 1048576.0, (after - before) / (double) n,
                    Runtime.getRuntime().maxMemory() / 1048576.0, seconds);
            cache.close();
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
