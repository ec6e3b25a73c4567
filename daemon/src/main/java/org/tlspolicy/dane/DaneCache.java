package org.tlspolicy.dane;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.cache.SharedLoads;
import org.tlspolicy.cache.SharedTier;
import org.tlspolicy.cache.StoredDane;
import org.tlspolicy.metrics.Metrics;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * DANE results cached for the DNS TTLs they rest on (bounded by {@code dane.min_ttl} and
 * {@code dane.max_ttl}): Caffeine in memory, the {@link PolicyStore} behind it so that a
 * restarted daemon answers at once, the network ({@link DaneResolver}) only when neither knows.
 *
 * <ul>
 *   <li>A result used in the last quarter of its lifetime is resolved again in the background
 *       (at most {@value #MAX_REFRESHES_IN_FLIGHT} at once); a domain in use keeps its answer
 *       without waiting. A refresh that fails keeps the old result as long as it may be
 *       served (its TTL, then the stale bound below), never longer.</li>
 *   <li>Failed resolutions (bogus, indeterminate) are kept for {@code cache.failure_ttl} and
 *       never persisted.</li>
 *   <li>Lookups of one domain that arrive together share one resolution.</li>
 *   <li>A new result is committed to the store before anything answers from it, so a reply
 *       Postfix acted on survives a kill -9 and a restart with DNS gone.</li>
 *   <li>A known domain's lookup never waits for DNS because its result just expired: past its
 *       TTL a result still answers (stale) while a background resolution replaces it, as
 *       RFC 8767 lets a resolver serve stale data rather than fail, within a bound that fits
 *       what the result says. A result that applies DANE (dane-only, dane) may be served up to
 *       one more of its lifetimes (at most {@code dane.max_ttl}): it only ever asks Postfix
 *       for more (Postfix looks the TLSA records up itself, fresh), so a stale one cannot
 *       downgrade, and during a DNS outage Postfix's own TLSA lookup defers the mail anyway.
 *       A result without DANE ("not applicable", null MX) may be served at most {@value
 *       #STALE_WITHOUT_DANE_SECONDS} s stale: a domain that has just signed its zone and
 *       published TLSA records gets DANE from the next resolution, not an hour later. A
 *       failure is never served stale.</li>
 *   <li>Lifetimes are shortened by up to {@value #JITTER_PERCENT}% at random, and the
 *       background refresh of a used result starts at 70–80% of its lifetime, so results
 *       resolved together (a restart, a burst of new domains) neither expire nor refresh
 *       together.</li>
 *   <li>In fleet mode the {@link SharedTier} is asked between the store and DNS, and each
 *       result resolved here is published to it (after the local commit). A result read from
 *       it is committed to the store before it answers, as one resolved here.</li>
 * </ul>
 * Nothing here completes exceptionally.
 */
public final class DaneCache implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DaneCache.class);

    /** Background refreshes in flight at most (see StsCache: a burst overflows UDP buffers). */
    static final int MAX_REFRESHES_IN_FLIGHT = 64;

    /**
     * How long past its TTL a result without DANE may still answer, during its refresh
     * (RFC 8767 §4: 30 s, the TTL it recommends for a stale answer).
     */
    static final int STALE_WITHOUT_DANE_SECONDS = 30;

    /** Lifetimes are shortened by up to this much at random, against synchronised expiry. */
    static final int JITTER_PERCENT = 15;

    /**
     * @param maxEntries  results kept in memory
     * @param maxBytes    their estimated heap ({@link DaneState#weight}) at most
     * @param minTtl      results are kept at least this long, whatever their TTLs
     * @param maxTtl      and at most this long
     * @param failureTtl  how long a failed resolution is kept
     */
    public record Settings(long maxEntries, long maxBytes, Duration minTtl, Duration maxTtl,
                           Duration failureTtl) {
    }

    private final DaneResolver resolver;
    private final DaneDecision decision;
    private final PolicyStore store;
    private final SharedTier shared;
    private final Settings settings;
    private final LongSupplier clock;
    private final Cache<String, DaneState> memory;
    private final SharedLoads<DaneState> loads = new SharedLoads<>();
    private final ConcurrentHashMap<String, Boolean> refreshing = new ConcurrentHashMap<>();
    private volatile ScheduledFuture<?> sweeper;
    private volatile Metrics metrics = new Metrics();

    public DaneCache(DaneResolver resolver, DaneDecision decision, PolicyStore store,
                     Settings settings, LongSupplier clock) {
        this(resolver, decision, store, SharedTier.NONE, settings, clock);
    }

    /** @param shared the fleet's shared tier; {@link SharedTier#NONE} for a single relay */
    public DaneCache(DaneResolver resolver, DaneDecision decision, PolicyStore store,
                     SharedTier shared, Settings settings, LongSupplier clock) {
        this.resolver = resolver;
        this.decision = decision;
        this.store = store;
        this.shared = shared;
        this.settings = settings;
        this.clock = clock;
        // Size-bounded only, as StsCache: validity is checked on every read.
        this.memory = Caffeine.newBuilder()
                .maximumWeight(settings.maxBytes())
                .weigher(org.tlspolicy.cache.MemoryBound.weigher(settings.maxBytes(),
                        settings.maxEntries(), DaneState::weight))
                .executor(Runnable::run)
                .build();
    }

    /** Counts resolutions in {@code m} from now on. */
    public void metrics(Metrics m) {
        this.metrics = m;
    }

    /** The estimated heap of the entries in memory, in bytes. */
    public long bytes() {
        return memory.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    /** Entries in memory (approximate). */
    public long size() {
        return memory.estimatedSize();
    }

    /** What memory holds now, without side effects (for {@code tlspolicyd cache list}). */
    public Map<String, DaneState> snapshot() {
        return Map.copyOf(memory.asMap());
    }

    /**
     * Takes the results another cache held (a reload's previous engine, resolved with the
     * same DNS and DANE settings) for the domains memory does not hold yet. Each keeps its
     * own times: nothing lives longer than it would have there.
     */
    public void adopt(Map<String, DaneState> states) {
        states.forEach(memory.asMap()::putIfAbsent);
    }

    /**
     * Forgets {@code domain} in memory, in the store and (fleet mode) in the shared tier; true
     * if a result was stored.
     */
    public CompletableFuture<Boolean> purge(String domain) {
        memory.invalidate(domain);
        return shared.forget(domain).thenCompose(forgotten -> store.deleteDane(domain));
    }

    /**
     * Resolves {@code domain} again now, as an operator asks. A failed resolution keeps a
     * result that may still answer (as a background refresh does); anything else replaces it.
     */
    public CompletableFuture<DaneState> refreshNow(String domain) {
        DaneState current = memory.getIfPresent(domain);
        return resolver.resolve(domain, true).thenCompose(lookup -> {
            count(lookup, true);
            if (lookup instanceof DaneLookup.Failed f && current != null
                    && !(current.lookup() instanceof DaneLookup.Failed)
                    && clock.getAsLong() < current.staleUntil()) {
                log.warn("dane refresh failed domain={} keeping result until expiry "
                        + "reason=\"{}\"", domain, f.reason());
                return CompletableFuture.completedFuture(current);
            }
            return afterResolution(domain, lookup).thenApply(next -> {
                memory.put(domain, next);
                return next;
            });
        });
    }

    /**
     * Sweeps expired results from memory every 10 minutes (the store is swept by StsCache's
     * sweep, or by PolicyEngine's when MTA-STS is off).
     */
    public void startSweeping(ScheduledExecutorService timer) {
        sweeper = timer.scheduleWithFixedDelay(this::deleteExpired, 10, 10, TimeUnit.MINUTES);
    }

    /**
     * The state of {@code domain} if memory holds a valid one, else null. A use: may start a
     * background refresh.
     */
    public DaneState known(String domain) {
        DaneState s = memory.getIfPresent(domain);
        if (s == null) {
            return null;
        }
        long now = clock.getAsLong();
        if (now >= s.staleUntil()) {
            return null;
        }
        if (now >= s.refreshAt() && refreshing.size() < MAX_REFRESHES_IN_FLIGHT
                && refreshing.putIfAbsent(domain, Boolean.TRUE) == null) {
            refresh(domain, s);
        }
        if (now >= s.validUntil()) {
            metrics.staleAnswer("dane");
        }
        return s;
    }

    /** The state of {@code domain}: from memory, else the store, else DNS. */
    public CompletableFuture<DaneState> lookup(String domain) {
        DaneState s = known(domain);
        if (s != null) {
            return CompletableFuture.completedFuture(s);
        }
        return loads.load(domain, () -> load(domain), error -> {
            log.error("dane resolution failed domain={}", domain, error);
            return failed(domain, "internal error: " + error);
        }, state -> memory.put(domain, state));
    }

    /** What memory holds for {@code domain}, without side effects (for tests). */
    public Optional<DaneState> peek(String domain) {
        return Optional.ofNullable(memory.policy().getIfPresentQuietly(domain));
    }

    /** Background refreshes running now (for tests). */
    int refreshesInFlight() {
        return refreshing.size();
    }

    private CompletableFuture<DaneState> load(String domain) {
        return store.getDane(domain).thenCompose(stored -> {
            long now = clock.getAsLong();
            if (stored.isPresent() && stored.get().validUntil() > now) {
                Optional<DaneState> restored = restore(domain, stored.get(), now);
                if (restored.isPresent()) {
                    return CompletableFuture.completedFuture(restored.get());
                }
                log.warn("dane domain={} stored result unreadable, resolving again", domain);
            }
            return shared.dane(domain).thenCompose(fleet -> {
                long at = clock.getAsLong();
                Optional<DaneState> s = fleet.filter(d -> d.validUntil() > at)
                        .flatMap(d -> restore(domain, d, at));
                if (s.isPresent()) {
                    return store.putDane(fleet.get()).thenApply(committed -> s.get());
                }
                return resolver.resolve(domain).thenCompose(l -> {
                    count(l, false);
                    return afterResolution(domain, l);
                });
            });
        });
    }

    /**
     * A result kept elsewhere (the store, the shared tier) as a state: refreshed when used in
     * the last quarter of the time it has left, as if it had just been resolved.
     */
    private Optional<DaneState> restore(String domain, StoredDane d, long now) {
        return DaneLookupCodec.parse(d.result()).map(lookup -> {
            long left = d.validUntil() - now;
            return new DaneState(lookup, decision.decide(domain, lookup), d.validUntil(),
                    now + left * 3 / 4, d.validUntil() + stale(lookup, left));
        });
    }

    private void refresh(String domain, DaneState current) {
        resolver.resolve(domain, true).thenCompose(lookup -> {
            count(lookup, true);
            if (lookup instanceof DaneLookup.Failed f) {
                // The current result stands until it may no longer be served (its TTL, or its
                // stale bound); then a lookup tries again.
                log.warn("dane refresh failed domain={} keeping result until expiry "
                        + "reason=\"{}\"", domain, f.reason());
                return CompletableFuture.completedFuture(current);
            }
            return afterResolution(domain, lookup);
        }).whenComplete((next, error) -> {
            if (error != null) {
                log.error("dane refresh failed domain={}", domain, error);
            } else if (next != current) {
                memory.asMap().replace(domain, current, next);
            }
            refreshing.remove(domain);
        });
    }

    private void count(DaneLookup l, boolean background) {
        metrics.daneResult(l instanceof DaneLookup.Applies ? "applies"
                : l instanceof DaneLookup.NotApplicable ? "not-applicable"
                : l instanceof DaneLookup.NullMx ? "null-mx"
                : ((DaneLookup.Failed) l).bogus() ? "bogus" : "indeterminate", background);
    }

    /** The state after a resolution, complete once it is committed to the store. */
    private CompletableFuture<DaneState> afterResolution(String domain, DaneLookup lookup) {
        if (lookup instanceof DaneLookup.Failed f) {
            log.warn("dane unknowable domain={} bogus={} reason=\"{}\"", domain, f.bogus(),
                    f.reason());
            return CompletableFuture.completedFuture(failed(domain, lookup));
        }
        long now = clock.getAsLong();
        long bounded = Math.max(settings.minTtl().toMillis(),
                Math.min(settings.maxTtl().toMillis(),
                        Math.min(lookup.ttl(), Integer.MAX_VALUE) * 1000));
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long lifetime = bounded - bounded * random.nextInt(JITTER_PERCENT + 1) / 100;
        DaneState s = new DaneState(lookup, decision.decide(domain, lookup), now + lifetime,
                now + lifetime * random.nextInt(70, 81) / 100,
                now + lifetime + stale(lookup, lifetime));
        return DaneLookupCodec.format(lookup)
                .map(text -> {
                    StoredDane d = new StoredDane(domain, text, s.validUntil());
                    return store.putDane(d)
                            .thenCompose(committed -> shared.putDane(d))
                            .thenApply(published -> s);
                })
                .orElseGet(() -> CompletableFuture.completedFuture(s));
    }

    /** How long past its TTL a result of {@code lifetime} may answer: see the class comment. */
    private static long stale(DaneLookup lookup, long lifetime) {
        return lookup instanceof DaneLookup.Applies ? lifetime
                : Math.min(lifetime, STALE_WITHOUT_DANE_SECONDS * 1000L);
    }

    private DaneState failed(String domain, String reason) {
        return failed(domain, new DaneLookup.Failed(reason, false, "indeterminate",
                List.of()));
    }

    private DaneState failed(String domain, DaneLookup lookup) {
        long until = clock.getAsLong() + settings.failureTtl().toMillis();
        return new DaneState(lookup, decision.decide(domain, lookup), until, Long.MAX_VALUE);
    }

    /** Drops results that may no longer answer from memory. */
    public void deleteExpired() {
        long now = clock.getAsLong();
        memory.asMap().values().removeIf(s -> s.staleUntil() <= now);
    }

    @Override
    public void close() {
        ScheduledFuture<?> s = sweeper;
        if (s != null) {
            s.cancel(false);
        }
    }
}
