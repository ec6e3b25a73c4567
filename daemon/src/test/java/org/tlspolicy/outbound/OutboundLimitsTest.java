package org.tlspolicy.outbound;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The outbound budgets: what waits, in which order, and what the fd limit leaves. */
class OutboundLimitsTest {

    @Test
    void aSocketBudgetMakesTheExcessWaitInTurnAndDropsNothing() throws Exception {
        SocketBudget budget = new SocketBudget("dns", 2);
        SocketBudget.Permit a = budget.acquire().get();
        SocketBudget.Permit b = budget.acquire().get();
        CompletableFuture<SocketBudget.Permit> c = budget.acquire();
        CompletableFuture<SocketBudget.Permit> d = budget.acquire();
        assertFalse(c.isDone());
        assertEquals(2, budget.waiting());
        a.release();
        a.release(); // once only
        assertTrue(c.isDone());
        assertFalse(d.isDone(), "a double release gives no extra socket");
        assertEquals(2, budget.inUse());
        b.release();
        d.get().release();
        c.get().release();
        assertEquals(0, budget.inUse());
    }

    @Test
    void theFdLimitLeavesWhatIncomingConnectionsAndTheReserveDoNotNeed() {
        assertEquals(1400 - 256 - 1024, SocketBudget.outboundFor(1400, 1024));
        assertEquals(SocketBudget.MAX_OUTBOUND, SocketBudget.outboundFor(1_048_576, 1024));
        assertEquals(SocketBudget.MIN_OUTBOUND, SocketBudget.outboundFor(1024, 1024));
    }

    /** Over the rate, resolutions wait their turn, first come first served, none dropped. */
    @Test
    void overTheRateResolutionsWaitTheirTurnInOrder() throws Exception {
        try (ResolutionRate rate = ResolutionRate.of(20, 20)) {
            for (int i = 0; i < 20; i++) {
                assertTrue(rate.acquire().isDone(), "the first second's worth at once");
            }
            List<String> order = new CopyOnWriteArrayList<>();
            List<CompletableFuture<Void>> all = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < 6; i++) {
                int n = i;
                all.add(rate.acquire().thenRun(() -> order.add("lookup" + n)));
            }
            assertEquals(6, rate.waiting());
            assertTrue(all.stream().noneMatch(CompletableFuture::isDone), "over the rate");
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                    .get(10, TimeUnit.SECONDS);
            assertEquals(List.of("lookup0", "lookup1", "lookup2", "lookup3", "lookup4",
                    "lookup5"), order);
            assertEquals(0, rate.waiting());
            // Six tokens at 20 a second take at least 250 ms to come (less a timer tick).
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(240));
        }
    }

    /**
     * A burst of new domains after a quiet spell starts at once, up to ten seconds' worth; a
     * domain's DANE and MTA-STS resolutions take one turn between them.
     */
    @Test
    void aBurstStartsAtOnceAndADomainTakesOneTurn() throws Exception {
        try (ResolutionRate rate = ResolutionRate.of(20)) {
            for (int i = 0; i < 20 * ResolutionRate.BURST_SECONDS; i++) {
                CompletableFuture<Void> dane = rate.acquire("d" + i + ".test");
                assertTrue(dane.isDone(), "domain " + i + " of the burst waits");
                assertSame(dane, rate.acquire("d" + i + ".test"), "MTA-STS took a turn too");
            }
            CompletableFuture<Void> over = rate.acquire("over.test");
            assertFalse(over.isDone(), "beyond the burst");
            assertSame(over, rate.acquire("over.test"));
            assertEquals(1, rate.waiting());
            over.get(5, TimeUnit.SECONDS);
        }
    }
}
