package org.tlspolicy.mtasts;

import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyResolver;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/** MTA-STS as a policy source: the cached state of the domain, decided by {@link StsDecision}. */
public final class StsPolicyResolver implements PolicyResolver {

    /**
     * Slots of the decision memo: a power of two. A decision costs a policy parse (microseconds),
     * a memo hit a few nanoseconds. Each domain has two candidate slots (two-choice hashing), so
     * the ~10,000 hottest domains rarely push each other out, in a bounded few megabytes
     * whatever the cache size.
     */
    private static final int MEMO_SLOTS = 1 << 15;

    /**
     * Replies longer than this are not memoized: a long policy's reply (its TLSRPT policy
     * strings) runs to 100,000 bytes, and 32,768 of those would be 3 GB. With this bound the
     * memo holds 32 MiB of replies at most; longer ones are rare and decided again each time.
     */
    static final int MAX_MEMO_REPLY_BYTES = 1024;

    private record Decided(StsState state, PolicyOutcome outcome) {
    }

    private final StsCache cache;
    private final StsDecision decision;
    /**
     * Racy by design: a slot holds an immutable Decided or null, and a reader that sees a stale
     * or another domain's entry just decides again. Cheaper on the hot path than a second
     * Caffeine lookup, which mattered in bench/run-cached.
     */
    private final Decided[] memo = new Decided[MEMO_SLOTS];

    public StsPolicyResolver(StsCache cache, StsDecision decision) {
        this.cache = cache;
        this.decision = decision;
    }

    @Override
    public PolicyOutcome known(NextHop.Domain domain) {
        String name = domain.name();
        StsState s = cache.known(name);
        if (s == null) {
            return null;
        }
        if (s instanceof StsState.NoPolicy none && none.failure() == null) {
            return decision.decide(name, s); // no parse: as cheap as a memo lookup
        }
        // The same state decides the same way: the hot path only compares references. A state
        // object belongs to one domain (the cache makes one per resolution).
        int h = name.hashCode();
        int first = (h ^ (h >>> 16)) & (MEMO_SLOTS - 1);
        int second = (h * 0x9E3779B9 >>> 17) & (MEMO_SLOTS - 1);
        Decided a = memo[first];
        if (a != null && a.state() == s) {
            return a.outcome();
        }
        Decided b = memo[second];
        if (b != null && b.state() == s) {
            return b.outcome();
        }
        PolicyOutcome o = decision.decide(name, s);
        if (o instanceof PolicyOutcome.Apply apply
                && apply.reply().encoded().length > MAX_MEMO_REPLY_BYTES) {
            return o; // decided anew each time: the memo's bound is in bytes too
        }
        // Into a free slot if there is one, else over one of the two at random: a fixed choice
        // could leave two domains that share a slot pushing each other out for ever.
        int slot = a == null ? first : b == null ? second
                : ThreadLocalRandom.current().nextBoolean() ? first : second;
        memo[slot] = new Decided(s, o);
        return o;
    }

    @Override
    public CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain) {
        String name = domain.name();
        return cache.lookup(name).thenApply(state -> decision.decide(name, state));
    }
}
