package org.tlspolicy.policy;

import org.tlspolicy.nexthop.NextHop;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * The operator's overrides in front of the policy resolvers: a domain with an active
 * {@link DomainOverride} gets its fixed answer without any lookup; every other domain, and one
 * whose override expired, goes on to DANE and MTA-STS.
 */
public final class OverrideResolver implements PolicyResolver {

    private final Map<String, DomainOverride> overrides;
    private final PolicyResolver next;
    private final LongSupplier clock;
    private final LongAdder answers = new LongAdder();
    private final Set<String> announced = ConcurrentHashMap.newKeySet();

    public OverrideResolver(List<DomainOverride> overrides, PolicyResolver next,
                            LongSupplier clock) {
        this.overrides = overrides.stream().collect(Collectors.toUnmodifiableMap(
                DomainOverride::domain, o -> o));
        this.next = next;
        this.clock = clock;
    }

    @Override
    public CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain) {
        PolicyOutcome o = overridden(domain);
        return o != null ? CompletableFuture.completedFuture(o) : next.resolve(domain);
    }

    /**
     * An override is "known" only once it has been resolved: its first answer then goes through
     * {@link #resolve}, which PolicyTable logs as a decision line (source=override, the
     * reason); later ones repeat it, as answers from memory do.
     */
    @Override
    public PolicyOutcome known(NextHop.Domain domain) {
        if (overrides.isEmpty()) {
            return next.known(domain);
        }
        DomainOverride o = overrides.get(domain.name());
        if (o == null || !o.activeAt(clock.getAsLong())) {
            return next.known(domain);
        }
        if (!announced.contains(o.domain())) {
            return null;
        }
        answers.increment();
        return o.outcome();
    }

    private PolicyOutcome overridden(NextHop.Domain domain) {
        if (overrides.isEmpty()) {
            return null;
        }
        DomainOverride o = overrides.get(domain.name());
        if (o == null || !o.activeAt(clock.getAsLong())) {
            return null;
        }
        answers.increment();
        announced.add(o.domain());
        return o.outcome();
    }

    /** Answers given from an override, since start. */
    public long answers() {
        return answers.sum();
    }
}
