package org.tlspolicy.daemon;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real threads of this JVM, lowered by the real renice(1): a policy fetch thread goes
 * {@value BackgroundPriority#STEP} below the process, a socketmap thread stays where it is,
 * and a second round has nothing left to do.
 */
class BackgroundPriorityTest {

    /** A thread named {@code name} that waits; completes with its kernel thread ID. */
    private static CompletableFuture<String> waiting(String name, CountDownLatch release) {
        CompletableFuture<String> tid = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                tid.complete(Files.readSymbolicLink(Path.of("/proc/thread-self"))
                        .getFileName().toString());
                release.await();
            } catch (Exception e) {
                tid.completeExceptionally(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return tid;
    }

    private static int nice(String tid) {
        return BackgroundPriority.nice(Path.of("/proc/self/task", tid)).orElseThrow();
    }

    @Test
    void backgroundThreadsGoBelowTheSocketmapLoop() throws Exception {
        int own = BackgroundPriority.nice(Path.of("/proc/self")).orElseThrow();
        int target = Math.min(19, own + BackgroundPriority.STEP);
        CountDownLatch release = new CountDownLatch(1);
        try {
            String fetch = waiting("policy-fetch-7", release).get(5, TimeUnit.SECONDS);
            String socketmap = waiting("epollEventLoopGroup-3-1", release)
                    .get(5, TimeUnit.SECONDS);
            assertEquals(own, nice(fetch));
            BackgroundPriority p = BackgroundPriority.start(3600);
            try {
                java.util.List<String> lowered = p.lower();
                assertEquals(target, nice(fetch));
                assertEquals(own, nice(socketmap));
                // The first round (at start, on its own thread) may have done it already.
                assertTrue(lowered.isEmpty() || lowered.contains("policy-fetch-7"),
                        lowered.toString());
                assertFalse(p.lower().contains("policy-fetch-7"), "lowered once only");
            } finally {
                p.close();
            }
        } finally {
            release.countDown();
        }
    }

    @Test
    void namesAreTheKernelsFifteenCharacters() {
        assertTrue(BackgroundPriority.background("C2 CompilerThre"));
        assertTrue(BackgroundPriority.background("dnsjava NIO sel"));
        assertTrue(BackgroundPriority.background("dns-completion"));
        assertTrue(BackgroundPriority.background("policy-fetch-1"));
        assertFalse(BackgroundPriority.background("epollEventLoopG"));
        assertFalse(BackgroundPriority.background("VM Thread"));
        assertFalse(BackgroundPriority.background("main"));
    }

    /** proc(5): the name in parentheses may hold spaces and parentheses itself. */
    @Test
    void theNiceFieldIsCountedAfterTheName(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Files.writeString(dir.resolve("stat"), "4242 (C2 Compiler) (x)) S 1 4242 4242 0 -1 "
                + "4194368 10 0 0 0 5 3 0 0 30 10 1 0 100 0 0 18446744073709551615 0 0 0 0 0\n");
        assertEquals(10, BackgroundPriority.nice(dir).orElseThrow());
    }
}
