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

    /**
     * Bytes of heap this state holds, estimated from above (as {@code StsState.weight}): its
     * hosts, their TLSA records, and the reply it decided, which DNS answers of up to 64 KiB
     * each can make large.
     */
    public long weight() {
        long w = 200;
        for (HostTlsa h : lookup.hosts()) {
            w += 120 + 2L * (h.host().length() + h.base().length() + h.detail().length());
            for (Tlsa t : h.records()) {
                w += 64 + 2L * t.data().length();
            }
        }
        if (outcome instanceof PolicyOutcome.Apply a) {
            // The reply's text (two bytes a character, at most) and its framed bytes.
            w += 2L * a.reason().length() + 3L * a.reply().encoded().length;
        } else if (outcome != null) {
            w += 2L * outcome.reason().length();
        }
        return w;
    }

    /** A state that is never served stale. */
    public DaneState(DaneLookup lookup, PolicyOutcome outcome, long validUntil, long refreshAt) {
        this(lookup, outcome, validUntil, refreshAt, validUntil);
    }
}
