package org.tlspolicy.policy;

import org.tlspolicy.nexthop.NextHop;

import java.util.concurrent.CompletableFuture;

/**
 * Finds the TLS policy of a next-hop domain. Expected failures (DNS, HTTPS, DNSSEC) are
 * outcomes, never exceptional completions.
 */
public interface PolicyResolver {

    /** Resolves the policy of {@code domain}, from memory, store or network. */
    CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain);

    /**
     * The outcome for {@code domain} if it is known in memory now, without any waiting, else
     * null (then {@link #resolve} is called). Such an answer repeats a decision already made,
     * so it is logged at debug level only.
     */
    default PolicyOutcome known(NextHop.Domain domain) {
        return null;
    }
}
