package org.tlspolicy.policy;

import org.tlspolicy.nexthop.NextHop;

import java.util.concurrent.CompletableFuture;

/**
 * Finds the TLS policy of a next-hop domain. Expected failures (DNS, HTTPS, DNSSEC) are
 * outcomes, never exceptional completions.
 */
@FunctionalInterface
public interface PolicyResolver {

    CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain);
}
