package org.tlspolicy.policy;

import org.tlspolicy.nexthop.NextHop;

import java.util.concurrent.CompletableFuture;

/** Finds no policy for any domain: the resolver in force while no policy source is enabled. */
public final class NoPolicyResolver implements PolicyResolver {

    private static final PolicyOutcome NONE = new PolicyOutcome.NoPolicy("no policy source enabled");

    @Override
    public CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain) {
        return CompletableFuture.completedFuture(NONE);
    }

    @Override
    public PolicyOutcome known(NextHop.Domain domain) {
        return NONE;
    }
}
