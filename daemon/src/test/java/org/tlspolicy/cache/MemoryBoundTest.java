package org.tlspolicy.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.junit.jupiter.api.Test;
import org.tlspolicy.mtasts.StsState;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 34, finding 7, in the small: entries weigh what they hold, so large policy bodies are
 * evicted by bytes long before the entry count is reached, and small ones by count. (Under the
 * unit's heap, end to end: integration-tests' MemoryBoundTest.)
 */
class MemoryBoundTest {

    private static StsState.Policy policy(int bodyChars) {
        String body = "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\n"
                + "x-pad: " + "a".repeat(Math.max(0, bodyChars - 70)) + "\n";
        return new StsState.Policy("1", body, 0, Long.MAX_VALUE, 0, 0, 0, "");
    }

    private static Cache<String, StsState> cache(long maxBytes, long maxEntries) {
        return Caffeine.newBuilder().maximumWeight(maxBytes)
                .weigher(MemoryBound.weigher(maxBytes, maxEntries, StsState::weight))
                .executor(Runnable::run).build();
    }

    @Test
    void largePoliciesAreBoundedByBytes() {
        long budget = 4L * 1024 * 1024;
        Cache<String, StsState> c = cache(budget, 100_000);
        for (int i = 0; i < 1000; i++) {
            c.put("d" + i + ".example", policy(64 * 1024));
        }
        c.cleanUp();
        long bytes = c.policy().eviction().orElseThrow().weightedSize().orElseThrow();
        assertTrue(bytes <= budget, bytes + " > " + budget);
        // 64 Ki characters weigh 128 KiB: about 32 fit in 4 MiB.
        assertTrue(c.estimatedSize() <= 32, "" + c.estimatedSize());
        assertTrue(c.estimatedSize() >= 16, "" + c.estimatedSize());
    }

    @Test
    void smallPoliciesAreBoundedByCount() {
        Cache<String, StsState> c = cache(64L * 1024 * 1024, 500);
        for (int i = 0; i < 2000; i++) {
            c.put("d" + i + ".example", policy(100));
        }
        c.cleanUp();
        assertEquals(500, c.estimatedSize());
    }
}
