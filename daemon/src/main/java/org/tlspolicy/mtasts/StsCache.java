package org.tlspolicy.mtasts;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.cache.MemoryBound;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.cache.SharedLoads;
import org.tlspolicy.cache.SharedTier;
import org.tlspolicy.cache.StoredPolicy;
import org.tlspolicy.metrics.Metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The MTA-STS policy cache and its RFC 8461 rules: Caffeine in front, the {@link PolicyStore}
 * behind, the network ({@link StsResolver}) only when neither knows.
 *
 * <ul>
 *   <li>A valid policy is used until its max_age runs out, whatever DNS and the policy host do
 *       meanwhile (RFC 8461 §3.3, §5.1); a failed refetch keeps it.</li>
 *   <li>A used policy's TXT id is compared again every {@code checkInterval}, in the background;
 *       a new id triggers a fetch (RFC 8461 §3.3), which replaces the policy only if it
 *       succeeds.</li>
 *   <li>Policies in use are fetched again in the background at about half their max_age
 *       (jittered, rate-limited), so a domain in use never waits on the network and never sees
 *       its policy expire while the policy host is reachable (RFC 8461 §10.2).</li>
 *   <li>"No policy" is remembered for {@code negativeTtl}, failed resolutions for
 *       {@code failureTtl} (each shortened by up to 15% at random, so that answers resolved
 *       together do not expire together); neither is persisted. A "no MTA-STS" in use is
 *       resolved again in the background from 75% of its time on. Past its time, such an answer
 *       still answers for at most {@value #STALE_NO_POLICY_SECONDS} s while a background
 *       resolution replaces it, so a known domain's lookup does not wait for DNS when its
 *       answer expires (RFC 8767's serve-stale, kept short: a domain that has just published
 *       MTA-STS gets its policy from the next resolution). A policy is never served past its
 *       max_age (RFC 8461 §5.1); it is refreshed long before.</li>
 *   <li>A newly fetched policy is committed to the store before anything can answer from it
 *       (the lookup that fetched it, lookups sharing that fetch, later ones from memory): a
 *       reply Postfix acted on survives a kill -9 and a restart with the network gone.</li>
 *   <li>Lookups of one domain that arrive together share one resolution, as do refreshes.</li>
 *   <li>In fleet mode a {@link SharedTier} stands between the store and the network: what
 *       another relay fetched is read from it (and committed to the store before it answers),
 *       what this relay resolves is published to it, and a policy about to be fetched (first
 *       time or refresh) is fetched by the one relay holding its lease while the others wait
 *       for its entry. The shared tier only ever saves work: a policy is replaced from it
 *       only by one fetched later, and whatever it does (down, slow, empty, tampered with),
 *       the relay resolves for itself.</li>
 * </ul>
 *
 * Nothing here ever completes exceptionally: failures are states.
 */
public final class StsCache implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StsCache.class);

    /**
     * Background TXT checks and refetches in flight at most. Without a bound, the first minute
     * after a restart sends one TXT query per policy used, all at once: in bench/run-cached,
     * 10,000 of them overflowed the UDP buffers and timed out.
     */
    private static final int MAX_CHECKS_IN_FLIGHT = 64;

    /** Uses are written to the store at most this often per policy. */
    private static final long USE_GRANULARITY_MS = TimeUnit.HOURS.toMillis(1);

    /** A failed refresh is retried after this, or sooner near expiry. */
    private static final long RETRY_MS = TimeUnit.MINUTES.toMillis(15);

    /** Refreshes running at once, at most. */
    private static final int MAX_CONCURRENT_REFRESHES = 16;

    /**
     * How long past its TTL a "no policy" answer may still answer, during its refresh
     * (RFC 8767 §4: 30 s, the TTL it recommends for a stale answer).
     */
    static final int STALE_NO_POLICY_SECONDS = 30;

    /**
     * @param maxEntries      states kept in memory (policies and negative answers)
     * @param maxBytes        their estimated heap ({@link StsState#weight}) at most; whichever
     *                        bound is reached first evicts
     * @param negativeTtl     how long "no MTA-STS" is remembered
     * @param failureTtl      how long a failed resolution is remembered (no policy cached)
     * @param checkInterval   how often a used policy's TXT id is compared
     * @param refreshPerSecond background refreshes started per second, at most
     */
    public record Settings(long maxEntries, long maxBytes, Duration negativeTtl,
                           Duration failureTtl, Duration checkInterval, int refreshPerSecond) {
    }

    private final StsResolver resolver;
    private final PolicyStore store;
    private final SharedTier shared;
    private final Settings settings;
    private final LongSupplier clock;
    private final Cache<String, StsState> memory;
    private final SharedLoads<StsState> loads = new SharedLoads<>();
    private final ConcurrentHashMap<String, CompletableFuture<StsState>> refreshing =
            new ConcurrentHashMap<>();
    /** Domains whose stale answer a resolution is replacing, now (one each, at most 64). */
    private final ConcurrentHashMap<String, Boolean> staleLoads = new ConcurrentHashMap<>();
    private volatile ScheduledFuture<?> refresher;
    private volatile Metrics metrics = new Metrics();
    private volatile ScheduledFuture<?> expirer;

    /**
     * @param clock epoch milliseconds; tests pass a clock they move
     */
    public StsCache(StsResolver resolver, PolicyStore store, Settings settings,
                    LongSupplier clock) {
        this(resolver, store, SharedTier.NONE, settings, clock);
    }

    /**
     * @param shared the fleet's shared tier; {@link SharedTier#NONE} for a single relay
     * @param clock  epoch milliseconds; tests pass a clock they move
     */
    public StsCache(StsResolver resolver, PolicyStore store, SharedTier shared,
                    Settings settings, LongSupplier clock) {
        this.resolver = resolver;
        this.store = store;
        this.shared = shared;
        this.settings = settings;
        this.clock = clock;
        // Size-bounded only. Validity is checked on every read (known()) and expired entries
        // are swept with the store's; Caffeine's variable expiry would move each entry in its
        // timer wheel on every read, a measurable share of a cached lookup in bench/run-cached.
        this.memory = Caffeine.newBuilder()
                .maximumWeight(settings.maxBytes())
                .weigher(MemoryBound.weigher(settings.maxBytes(), settings.maxEntries(),
                        StsState::weight))
                .executor(Runnable::run)
                .build();
    }

    /** Counts resolutions in {@code m} from now on. */
    public void metrics(Metrics m) {
        this.metrics = m;
    }

    /** Starts the background refresher and the expiry sweep (memory and store) on {@code timer}. */
    public void startRefreshing(ScheduledExecutorService timer) {
        refresher = timer.scheduleWithFixedDelay(this::refreshDue, 1, 1, TimeUnit.SECONDS);
        expirer = timer.scheduleWithFixedDelay(this::deleteExpired, 0, 10, TimeUnit.MINUTES);
    }

    /**
     * The state of {@code domain} if memory holds a valid one, else null. Counts as a use (and
     * may start a background revalidation).
     */
    public StsState known(String domain) {
        long now = clock.getAsLong();
        StsState s = memory.getIfPresent(domain);
        if (s == null) {
            return null;
        }
        if (now < s.validUntil()) {
            if (s instanceof StsState.Policy p) {
                afterUse(domain, p, now);
            } else if (now >= ((StsState.NoPolicy) s).refreshAt()) {
                resolveInBackground(domain);
            }
            return s;
        }
        if (s instanceof StsState.NoPolicy
                && now < s.validUntil() + STALE_NO_POLICY_SECONDS * 1000L) {
            // Stale: answers while a resolution in the background replaces it.
            resolveInBackground(domain);
            metrics.staleAnswer("mta-sts");
            return s;
        }
        return null;
    }

    /** Replaces a "no policy" in use, at most one resolution per domain, a bounded number. */
    private void resolveInBackground(String domain) {
        if (staleLoads.size() < MAX_CHECKS_IN_FLIGHT
                && staleLoads.putIfAbsent(domain, Boolean.TRUE) == null) {
            shared(domain, true).whenComplete((state, e) -> staleLoads.remove(domain));
        }
    }

    /** The state of {@code domain}: from memory, else the store, else the network. */
    public CompletableFuture<StsState> lookup(String domain) {
        StsState s = known(domain);
        if (s != null) {
            return CompletableFuture.completedFuture(s);
        }
        return shared(domain, false);
    }

    /**
     * The load of {@code domain} from the store or the network, shared with any running; a
     * {@code background} one (a stale answer stands meanwhile) does not wait for a turn of the
     * resolution rate.
     */
    private CompletableFuture<StsState> shared(String domain, boolean background) {
        return loads.load(domain, () -> load(domain, background), error -> {
            log.error("mta-sts resolution failed domain={}", domain, error);
            return new StsState.NoPolicy("internal error: " + error, null,
                    clock.getAsLong() + settings.failureTtl().toMillis());
        }, state -> memory.put(domain, state));
    }

    /** What memory holds for {@code domain}, without side effects (for {@code query}). */
    public Optional<StsState> peek(String domain) {
        return Optional.ofNullable(memory.policy().getIfPresentQuietly(domain));
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
    public Map<String, StsState> snapshot() {
        return Map.copyOf(memory.asMap());
    }

    /**
     * Takes the states another cache held (a reload's previous engine, resolved with the same
     * DNS and MTA-STS settings) for the domains memory does not hold yet. Each keeps its own
     * times: nothing lives longer than it would have there.
     */
    public void adopt(Map<String, StsState> states) {
        states.forEach(memory.asMap()::putIfAbsent);
    }

    /**
     * Forgets {@code domain} in memory, in the store and (fleet mode) in the shared tier, as
     * an operator asks after the receiver fixed its policy: the next lookup resolves afresh.
     * True if a policy was stored.
     */
    public CompletableFuture<Boolean> purge(String domain) {
        memory.invalidate(domain);
        return shared.forget(domain).thenCompose(forgotten -> store.delete(domain));
    }

    /**
     * Resolves {@code domain} again now, as an operator asks: a cached policy is fetched
     * again and replaced only by a new valid one (RFC 8461 §3.3: a failed refresh keeps it);
     * anything else is resolved afresh. In fleet mode the shared entry is dropped first, so
     * that this relay fetches and the fleet gets what it fetched.
     */
    public CompletableFuture<StsState> refreshNow(String domain) {
        return shared.forget(domain).thenCompose(forgotten -> {
            StsState s = memory.getIfPresent(domain);
            if (s instanceof StsState.Policy p) {
                return revalidate(domain, p, true);
            }
            long start = clock.getAsLong();
            memory.invalidate(domain);
            return shared(domain, false).thenCompose(loaded ->
                    loaded instanceof StsState.Policy p && p.fetchedAt() < start
                            ? revalidate(domain, p, true) // it came from the store: fetch it
                            : CompletableFuture.completedFuture(loaded));
        });
    }

    private CompletableFuture<StsState> load(String domain, boolean background) {
        return store.get(domain).thenCompose(stored -> {
            long now = clock.getAsLong();
            if (stored.isPresent() && stored.get().expiresAt() > now) {
                Optional<StsState.Policy> p = fromStore(stored.get());
                if (p.isPresent()) {
                    log.debug("mta-sts domain={} policy id={} from store", domain, p.get().id());
                    return CompletableFuture.completedFuture(p.get());
                }
                store.delete(domain);
            }
            Supplier<CompletableFuture<StsState>> resolve = () -> resolver.resolve(domain,
                    background).thenCompose(l -> afterResolution(domain, l, null));
            if (background) {
                // It replaces a "no MTA-STS" due for refresh: the shared tier's would be the
                // same answer or an older one, read again and again as its refresh time (75%
                // of what is left) comes nearer. DNS is asked instead (what it finds is
                // published); a domain that has just published MTA-STS is then fetched by
                // each relay that had it as "no MTA-STS", once.
                return resolve.get();
            }
            return fromShared(domain, 0, null, true).thenCompose(fleet -> fleet.isPresent()
                    ? CompletableFuture.completedFuture(fleet.get())
                    : onceForFleet(domain, 0, null, true, fleetDeadline(), resolve));
        });
    }

    /**
     * What the shared tier holds for {@code domain}, made this relay's own: a policy fetched
     * after {@code newerThan} (under TXT id {@code wantedId}, if given), committed to the store
     * before it may answer (see the class comment); a "no MTA-STS" only if {@code acceptNone}
     * (never in place of a cached policy: RFC 8461 §3.3).
     */
    private CompletableFuture<Optional<StsState>> fromShared(String domain, long newerThan,
                                                             String wantedId,
                                                             boolean acceptNone) {
        return shared.sts(domain).thenCompose(entry -> {
            long now = clock.getAsLong();
            if (entry.isEmpty() || entry.get().validUntil() <= now) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            if (entry.get() instanceof SharedTier.NoPolicyEntry none) {
                if (!acceptNone) {
                    return CompletableFuture.completedFuture(Optional.empty());
                }
                long left = none.validUntil() - now;
                return CompletableFuture.completedFuture(Optional.of(new StsState.NoPolicy(
                        none.reason(), null, none.validUntil(), now + left * 3 / 4)));
            }
            StoredPolicy p = ((SharedTier.PolicyEntry) entry.get()).policy();
            if (p.fetchedAt() <= newerThan || (wantedId != null && !wantedId.equals(p.id()))
                    || !(StsPolicy.parse(p.body()) instanceof StsPolicy.Parse.Valid v)) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            long refreshAt = refreshAt(Math.max(p.fetchedAt(), now - 1000), v.policy());
            StsState.Policy policy = new StsState.Policy(p.id(), p.body(), p.fetchedAt(),
                    p.expiresAt(), p.fetchedAt(), refreshAt, now, "");
            log.debug("mta-sts domain={} policy id={} from shared cache", domain, p.id());
            return store.put(new StoredPolicy(domain, p.id(), p.body(), p.fetchedAt(),
                    p.expiresAt(), refreshAt, now))
                    .thenApply(committed -> Optional.<StsState>of(policy));
        });
    }

    /** Until when (System.nanoTime) a relay waits for another's fetch before fetching itself. */
    private long fleetDeadline() {
        return System.nanoTime() + shared.leaseTime().toNanos();
    }

    /**
     * Runs {@code fetch} once for the fleet: at once without a shared tier; holding the lease
     * when it is free; else waits for the lease holder's entry (one fetched after {@code
     * newerThan}), taking over if the lease lapses without one or {@code deadline} passes.
     */
    private CompletableFuture<StsState> onceForFleet(String domain, long newerThan,
                                                     String wantedId, boolean acceptNone,
                                                     long deadline,
                                                     Supplier<CompletableFuture<StsState>> fetch) {
        return onceForFleet(domain, newerThan, wantedId, acceptNone, deadline, fetch, 0);
    }

    /**
     * The longest wait between two looks for another relay's entry: the first comes after
     * {@link SharedTier#pollInterval()}, each next one after twice the last, up to this. A
     * burst of new domains on several relays leaves each waiting for hundreds of others'
     * fetches at once; looking every 50 ms for each made tens of thousands of commands a second
     * for the shared server, which then timed out, the tier was taken for down and every relay
     * fetched every policy itself (bench/run-burst: three fetches a domain).
     */
    private static final long MAX_POLL_MILLIS = 800;

    private CompletableFuture<StsState> onceForFleet(String domain, long newerThan,
                                                     String wantedId, boolean acceptNone,
                                                     long deadline,
                                                     Supplier<CompletableFuture<StsState>> fetch,
                                                     int looks) {
        return shared.lease(domain).thenCompose(lease -> {
            if (lease == SharedTier.Lease.UNAVAILABLE) {
                return fetch.get();
            }
            if (lease == SharedTier.Lease.ACQUIRED) {
                // Looked for once more: the last holder may have published and released
                // between this relay's first look and its lease. Released once the result is
                // published (afterResolution waits for that).
                return fromShared(domain, newerThan, wantedId, acceptNone).thenCompose(found ->
                        found.isPresent() ? CompletableFuture.completedFuture(found.get())
                                : fetch.get()).whenComplete((state, error) ->
                        shared.release(domain));
            }
            long wait = Math.min(MAX_POLL_MILLIS,
                    shared.pollInterval().toMillis() << Math.min(looks, 10));
            return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(
                            wait, TimeUnit.MILLISECONDS, Runnable::run))
                    .thenCompose(waited -> fromShared(domain, newerThan, wantedId, acceptNone))
                    .thenCompose(found -> found.isPresent()
                            ? CompletableFuture.completedFuture(found.get())
                            : System.nanoTime() - deadline >= 0 ? fetch.get()
                            : onceForFleet(domain, newerThan, wantedId, acceptNone, deadline,
                                    fetch, looks + 1));
        });
    }

    /** A stored policy as a state; its TXT id is checked at its first use (checkedAt 0). */
    public static Optional<StsState.Policy> fromStore(StoredPolicy s) {
        if (StsPolicy.parse(s.body()) instanceof StsPolicy.Parse.Valid v) {
            return Optional.of(new StsState.Policy(s.id(), s.body(), s.fetchedAt(),
                    s.fetchedAt() + v.policy().maxAgeSeconds() * 1000, 0, s.refreshAt(),
                    s.lastUsed(), ""));
        }
        return Optional.empty();
    }

    /**
     * The state after a resolution, complete once a new policy is committed to the store (not
     * before: see the class comment; a store that fails is logged and does not hold the answer
     * back). With a {@code previous} policy still valid, anything but a new valid policy keeps
     * it (RFC 8461 §3.3).
     */
    private CompletableFuture<StsState> afterResolution(String domain, StsLookup lookup,
                                                        StsState.Policy previous) {
        long now = clock.getAsLong();
        metrics.stsResult(lookup instanceof StsLookup.Found ? "found"
                : lookup instanceof StsLookup.Failed f ? f.failure().resultType()
                : lookup instanceof StsLookup.Unavailable ? "unavailable" : "absent",
                previous != null);
        if (lookup instanceof StsLookup.Found found) {
            long lastUsed = previous == null ? now : previous.lastUsed();
            StsState.Policy p = new StsState.Policy(found.record().id(), found.body(), now,
                    now + found.policy().maxAgeSeconds() * 1000, now,
                    refreshAt(now, found.policy()), lastUsed, "");
            if (previous == null || !previous.id().equals(p.id())
                    || !previous.body().equals(p.body())) {
                log.info("mta-sts domain={} policy id={} mode={} max_age={} mx={} {}", domain,
                        p.id(), found.policy().mode().name().toLowerCase(Locale.ROOT),
                        found.policy().maxAgeSeconds(), found.policy().mx(),
                        found.timings().logFields());
            }
            StoredPolicy stored = new StoredPolicy(domain, p.id(), p.body(), p.fetchedAt(),
                    p.expiresAt(), p.refreshAt(), p.lastUsed());
            // Published after the local commit, and before the fetch lease is released.
            return store.put(stored)
                    .thenCompose(committed -> shared.putSts(domain,
                            new SharedTier.PolicyEntry(stored)))
                    .thenApply(published -> p);
        }
        StsState s = keptOrNone(domain, lookup, previous, now);
        if (previous == null && lookup instanceof StsLookup.Absent
                && s instanceof StsState.NoPolicy none) {
            return shared.putSts(domain, new SharedTier.NoPolicyEntry(none.reason(),
                    none.validUntil())).thenApply(published -> s);
        }
        return CompletableFuture.completedFuture(s);
    }

    /**
     * A resolution without a new policy: the previous policy while it is valid (its refresh
     * problem noted), else no policy, remembered for failureTtl or negativeTtl.
     */
    private StsState keptOrNone(String domain, StsLookup lookup, StsState.Policy previous,
                                long now) {
        if (previous != null && now < previous.expiresAt()) {
            String problem = "";
            if (lookup instanceof StsLookup.Failed f) {
                problem = f.failure().resultType() + ": " + f.reason();
            } else if (lookup instanceof StsLookup.Unavailable u) {
                problem = u.reason();
            }
            if (!problem.isEmpty() && previous.policy().mode() != StsPolicy.Mode.NONE) {
                // RFC 8461 §3.3: alert administrators when a refresh fails.
                log.warn("mta-sts refresh failed domain={} keeping policy id={} until={} "
                        + "problem=\"{}\"", domain, previous.id(),
                        Instant.ofEpochMilli(previous.expiresAt()), problem);
            }
            return previous.checked(now, problem);
        }
        if (lookup instanceof StsLookup.Failed f) {
            log.warn("mta-sts no usable policy domain={} id={} failure={} reason=\"{}\"",
                    domain, f.record().id(), f.failure().resultType(), f.reason());
            return new StsState.NoPolicy(f.reason(), f.failure(),
                    now + jittered(settings.failureTtl()));
        }
        if (lookup instanceof StsLookup.Unavailable u) {
            return new StsState.NoPolicy(u.reason(), null, now + jittered(settings.failureTtl()));
        }
        // A domain in use is resolved again from 75% of its negative TTL on (in the
        // background): without it, every "no MTA-STS" in use expired to a lookup that waited
        // for DNS and for a turn of cache.resolution_rate once the 30 s of serve-stale had
        // passed without a free background slot, as when thousands expire together
        // (bench/run-cached measured 100-170 lookups/s and 1.7 s latencies on its key mix
        // five minutes after the warm-up).
        long lifetime = jittered(settings.negativeTtl());
        return new StsState.NoPolicy(((StsLookup.Absent) lookup).reason(), null,
                now + lifetime, now + lifetime * 3 / 4);
    }

    /** {@code ttl} shortened by up to 15% at random: answers made together expire apart. */
    private static long jittered(Duration ttl) {
        long ms = ttl.toMillis();
        return ms - ms * ThreadLocalRandom.current().nextInt(16) / 100;
    }

    /** RFC 8461 §10.2: refresh at about half the max_age, ±10%, so refreshes spread out. */
    private static long refreshAt(long now, StsPolicy policy) {
        long half = policy.maxAgeSeconds() * 500;
        long jitter = half / 10;
        long at = now + half + (jitter > 0 ? ThreadLocalRandom.current().nextLong(-jitter, jitter)
                : 0);
        return Math.max(now + 1000, at);
    }

    private void afterUse(String domain, StsState.Policy p, long now) {
        if (p.lastUsed() < p.fetchedAt() || now - p.lastUsed() >= USE_GRANULARITY_MS) {
            memory.put(domain, p.used(now));
            store.touch(domain, now);
        }
        if ((now - p.checkedAt() >= settings.checkInterval().toMillis() || now >= p.refreshAt())
                && refreshing.size() < MAX_CHECKS_IN_FLIGHT) {
            // Over the limit (after a restart, every policy's first use wants a check), the
            // check waits for a later use: the policy stays valid meanwhile.
            revalidate(domain, p, now >= p.refreshAt());
        }
    }

    /**
     * Compares the TXT id and fetches the policy again when it changed or when {@code refetch};
     * one at a time per domain.
     */
    CompletableFuture<StsState> revalidate(String domain, StsState.Policy current,
                                           boolean refetch) {
        CompletableFuture<StsState> promise = new CompletableFuture<>();
        CompletableFuture<StsState> running = refreshing.putIfAbsent(domain, promise);
        if (running != null) {
            return running;
        }
        resolver.discover(domain).thenCompose(d -> {
            if (d.record() != null && (refetch || !d.record().id().equals(current.id()))) {
                // Another relay may have fetched it already (fleet mode), or be fetching it.
                String wanted = refetch ? null : d.record().id();
                return fromShared(domain, current.fetchedAt(), wanted, false).thenCompose(fleet ->
                        fleet.isPresent() ? CompletableFuture.completedFuture(fleet.get())
                        : onceForFleet(domain, current.fetchedAt(), wanted, false,
                                fleetDeadline(),
                                () -> resolver.fetch(domain, d.record(), d.elapsed())
                                        .thenCompose(l -> afterResolution(domain, l, current))));
            }
            StsLookup l = d.record() != null
                    ? new StsLookup.Absent("", StsLookup.Timings.NONE) // same id: nothing new
                    : d.failed() ? new StsLookup.Unavailable(d.reason(), StsLookup.Timings.NONE)
                    : new StsLookup.Absent(d.reason(), StsLookup.Timings.NONE);
            if (d.record() == null && !d.failed()) {
                log.info("mta-sts domain={} TXT record gone ({}); cached policy id={} kept "
                        + "until it expires", domain, d.reason(), current.id());
            }
            return afterResolution(domain, l, current);
        }).whenComplete((state, error) -> {
            StsState result = error == null ? state : current;
            if (error != null) {
                log.error("mta-sts refresh failed domain={}", domain, error);
            }
            if (result instanceof StsState.Policy p && p.fetchedAt() == current.fetchedAt()
                    && clock.getAsLong() >= current.refreshAt()) {
                // Not refetched although due: try again later, sooner as expiry nears.
                long now = clock.getAsLong();
                long left = p.expiresAt() - now;
                long at = now + Math.max(1000, Math.min(RETRY_MS, left / 4));
                result = p.rescheduled(at, p.refreshProblem());
                store.reschedule(domain, at);
            }
            memory.put(domain, result);
            refreshing.remove(domain, promise);
            promise.complete(result);
        });
        return promise;
    }

    /**
     * One tick of the background refresher: start what is due, within the rate limit. Never
     * blocks the timer thread (policy fetch deadlines run on it too).
     */
    CompletableFuture<Void> refreshDue() {
        int room = Math.min(settings.refreshPerSecond(),
                MAX_CONCURRENT_REFRESHES - refreshing.size());
        if (room <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return store.due(clock.getAsLong(), room).thenAccept(due -> {
            long now = clock.getAsLong();
            for (StoredPolicy s : due) {
                StsState inMemory = memory.getIfPresent(s.domain());
                if (inMemory instanceof StsState.Policy p && p.refreshAt() > now) {
                    // Memory knows better: rescheduled after a failed try, and the store
                    // could not be told (read-only, full). Not again every second.
                    continue;
                }
                StsState.Policy current = inMemory instanceof StsState.Policy p ? p
                        : fromStore(s).orElse(null);
                if (current == null) {
                    store.delete(s.domain());
                    continue;
                }
                log.debug("mta-sts refresh domain={} id={}", s.domain(), current.id());
                revalidate(s.domain(), current, true);
            }
        }).exceptionally(e -> {
            // Never let one bad tick stop the refresher.
            log.warn("mta-sts refresher tick failed: {}", e.toString());
            return null;
        });
    }

    /** Drops what may no longer answer from memory, and what is expired from the store. */
    void deleteExpired() {
        long now = clock.getAsLong();
        memory.asMap().values().removeIf(state -> state.validUntil()
                + (state instanceof StsState.NoPolicy ? STALE_NO_POLICY_SECONDS * 1000L : 0)
                <= now);
        store.deleteExpired(now);
    }

    /** Background checks and refreshes under way (tests). */
    int checksInFlight() {
        return refreshing.size();
    }

    /** Runs one refresher tick now and waits for the refreshes it started (tests). */
    void refreshDueAndWait() throws Exception {
        refreshDue().get(60, TimeUnit.SECONDS);
        for (CompletableFuture<StsState> f : List.copyOf(refreshing.values())) {
            f.get(60, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        ScheduledFuture<?> r = refresher;
        if (r != null) {
            r.cancel(false);
        }
        ScheduledFuture<?> e = expirer;
        if (e != null) {
            e.cancel(false);
        }
    }
}
