package org.tlspolicy.mtasts;

/**
 * What the cache holds for one policy domain. Times are epoch milliseconds.
 */
public sealed interface StsState {

    /** Until when this state may be used without asking the network again. */
    long validUntil();

    /**
     * Bytes of heap this state holds, estimated from above: object headers and fields, and two
     * bytes per character of its strings (a policy body of non-Latin-1 text is stored as UTF-16).
     * What the memory tier's byte bound counts (issue 34, finding 7: policy bodies of up to
     * 64 KiB each, counted as one entry each, filled the heap).
     */
    long weight();

    /**
     * A valid policy (RFC 8461 §5.1: usable until max_age after its fetch, whatever DNS and the
     * policy host say meanwhile). Only the body is kept, not its parse: a million cached
     * policies must fit in a small heap, and decisions on it are memoized by the resolver.
     *
     * @param id             the TXT id it was fetched under
     * @param body           the policy as served; always a valid policy
     * @param fetchedAt      when it was fetched
     * @param expiresAt      fetchedAt + max_age
     * @param checkedAt      when the TXT id was last compared (0: not since a restart)
     * @param refreshAt      when it is fetched again in the background, before it expires
     * @param lastUsed       when a lookup last used it (coarse)
     * @param refreshProblem why the last refresh failed, or empty
     */
    record Policy(String id, String body, long fetchedAt, long expiresAt, long checkedAt,
                  long refreshAt, long lastUsed, String refreshProblem) implements StsState {

        /** The parsed policy (parsed anew on each call). */
        public StsPolicy policy() {
            if (StsPolicy.parse(body) instanceof StsPolicy.Parse.Valid v) {
                return v.policy();
            }
            throw new IllegalStateException("cached policy body is invalid: " + body);
        }

        @Override
        public long validUntil() {
            return expiresAt;
        }

        @Override
        public long weight() {
            return 200 + 2L * (id.length() + body.length() + refreshProblem.length());
        }

        Policy checked(long now, String problem) {
            return new Policy(id, body, fetchedAt, expiresAt, now, refreshAt, lastUsed, problem);
        }

        Policy used(long now) {
            return new Policy(id, body, fetchedAt, expiresAt, checkedAt, refreshAt, now,
                    refreshProblem);
        }

        Policy rescheduled(long at, String problem) {
            return new Policy(id, body, fetchedAt, expiresAt, checkedAt, at, lastUsed, problem);
        }
    }

    /**
     * No policy applies, until {@code validUntil}. {@code failure} is set when the domain
     * announces MTA-STS but no valid policy could be had (for TLSRPT's {@code policy_failure}).
     * From {@code refreshAt} on, a use starts a resolution in the background, so that a domain
     * in use has its answer replaced before it expires.
     */
    record NoPolicy(String reason, StsFailure failure, long validUntil, long refreshAt)
            implements StsState {

        /** Resolved again only once expired. */
        public NoPolicy(String reason, StsFailure failure, long validUntil) {
            this(reason, failure, validUntil, validUntil);
        }

        @Override
        public long weight() {
            return 120 + 2L * reason.length();
        }
    }
}
