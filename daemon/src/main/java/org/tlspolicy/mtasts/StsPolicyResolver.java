package org.tlspolicy.mtasts;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyResolver;

import java.util.concurrent.CompletableFuture;

/** MTA-STS as a policy source: the cached state of the domain, decided by {@link StsDecision}. */
public final class StsPolicyResolver implements PolicyResolver {

    /** Decisions of the hottest domains, kept while their state is unchanged. */
    private static final int DECIDED_ENTRIES = 10_000;

    private record Decided(StsState state, PolicyOutcome outcome) {
    }

    private final StsCache cache;
    private final StsDecision decision;
    private final Cache<String, Decided> decided = Caffeine.newBuilder()
            .maximumSize(DECIDED_ENTRIES)
            .executor(Runnable::run)
            .build();

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
        // The same state decides the same way: the hot path only compares references.
        Decided d = decided.getIfPresent(name);
        if (d != null && d.state() == s) {
            return d.outcome();
        }
        PolicyOutcome o = decision.decide(name, s);
        decided.put(name, new Decided(s, o));
        return o;
    }

    @Override
    public CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain) {
        String name = domain.name();
        return cache.lookup(name).thenApply(state -> decision.decide(name, state));
    }
}
