package org.tlspolicy.mtasts;

import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyResolver;

import java.util.concurrent.CompletableFuture;

/** MTA-STS as a policy source: the cached state of the domain, decided by {@link StsDecision}. */
public final class StsPolicyResolver implements PolicyResolver {

    private final StsCache cache;
    private final StsDecision decision;

    public StsPolicyResolver(StsCache cache, StsDecision decision) {
        this.cache = cache;
        this.decision = decision;
    }

    @Override
    public PolicyOutcome known(NextHop.Domain domain) {
        StsState s = cache.known(domain.name());
        return s == null ? null : decision.decide(domain.name(), s);
    }

    @Override
    public CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain) {
        String name = domain.name();
        return cache.lookup(name).thenApply(state -> decision.decide(name, state));
    }
}
