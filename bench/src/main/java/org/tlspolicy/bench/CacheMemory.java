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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
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
        PolicyStore.open(Optional.of(file)).close(); // creates the schema
        long now = System.currentTimeMillis();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            c.setAutoCommit(false);
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO sts_policy VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < n; i++) {
                    String d = "domain" + i + ".example";
                    s.setString(1, d);
                    s.setString(2, "20240101T000000");
                    s.setString(3, "version: STSv1\nmode: enforce\nmx: mx1." + d + "\nmx: *."
                            + d + "\nmax_age: 604800\n");
                    s.setLong(4, now);
                    s.setLong(5, now + 604_800_000L);
                    s.setLong(6, now + 302_400_000L);
                    s.setLong(7, now);
                    s.addBatch();
                    if (i % 10_000 == 9_999) {
                        s.executeBatch();
                    }
                }
                s.executeBatch();
            }
            c.commit();
        }
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            DnsClient nowhere = new DnsClient(List.of(new InetSocketAddress("127.0.0.1", 9)),
                    Duration.ofMillis(100), 1);
            StsCache cache = new StsCache(new StsResolver(nowhere, null), store,
                    new StsCache.Settings(n + 1000, Duration.ofMinutes(5), Duration.ofMinutes(1),
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
