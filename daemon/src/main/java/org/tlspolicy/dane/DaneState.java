package org.tlspolicy.dane;

import org.tlspolicy.policy.PolicyOutcome;

/**
 * What the DANE cache holds for a domain. Times are epoch milliseconds.
 *
 * @param lookup     the result
 * @param outcome    what it decides, or null when MTA-STS decides (decided once, when cached)
 * @param validUntil when it must be resolved again (the DNS TTLs, bounded)
 * @param refreshAt  when a use starts a background resolution, so that a domain in use does not
 *                   wait for DNS when its TTL runs out
 * @param staleUntil until when, past {@code validUntil}, it may still answer while a background
 *                   resolution replaces it (see {@link DaneCache}); {@code validUntil} for none
 */
public record DaneState(DaneLookup lookup, PolicyOutcome outcome, long validUntil,
                        long refreshAt, long staleUntil) {

    /** A state that is never served stale. */
    public DaneState(DaneLookup lookup, PolicyOutcome outcome, long validUntil, long refreshAt) {
        this(lookup, outcome, validUntil, refreshAt, validUntil);
    }
}
