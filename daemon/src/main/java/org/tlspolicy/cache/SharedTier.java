package org.tlspolicy.cache;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The tier between a relay's memory and the network that the relays of a fleet share (fleet
 * mode: a Valkey or Redis server, see {@code org.tlspolicy.fleet}). What one relay resolved,
 * the others read instead of resolving it again; a relay about to fetch a policy takes a short
 * {@linkplain #lease lease} so that the fleet fetches it once.
 *
 * <p>Nothing here is needed for a right answer. Every operation completes normally, at once or
 * within a short timeout: an empty result, {@link Lease#UNAVAILABLE} or a write that did not
 * happen are what a shared store that is down, slow, full, flushed or tampered with looks like,
 * and the caller then does what a single relay does. The local store stays the restart-safe
 * floor: whatever a relay answers from is committed there first.
 */
public interface SharedTier {

    /** An MTA-STS answer as the fleet shares it. */
    sealed interface StsEntry {
        /** Epoch milliseconds after which no relay may use it. */
        long validUntil();
    }

    /** A fetched policy (valid until its max_age runs out). */
    record PolicyEntry(StoredPolicy policy) implements StsEntry {
        @Override
        public long validUntil() {
            return policy.expiresAt();
        }
    }

    /** "This domain has no MTA-STS" (no TXT record), valid for the negative TTL. */
    record NoPolicyEntry(String reason, long validUntil) implements StsEntry {
    }

    /** The outcome of asking for a domain's fetch lease. */
    enum Lease {
        /** This relay fetches; it publishes what it got and releases the lease. */
        ACQUIRED,
        /** Another relay is fetching: wait for its entry, or take over when the lease lapses. */
        HELD_ELSEWHERE,
        /** No shared store to ask (single relay, or it is down): fetch. */
        UNAVAILABLE
    }

    /** The domain's MTA-STS entry if the shared store has an authentic, unexpired one. */
    CompletableFuture<Optional<StsEntry>> sts(String domain);

    /** Publishes an MTA-STS entry; completes (never exceptionally) once written or not. */
    CompletableFuture<Void> putSts(String domain, StsEntry entry);

    /** The domain's DANE result if the shared store has an authentic, unexpired one. */
    CompletableFuture<Optional<StoredDane>> dane(String domain);

    /** Publishes a DANE result; completes (never exceptionally) once written or not. */
    CompletableFuture<Void> putDane(StoredDane result);

    /**
     * Deletes {@code domain}'s MTA-STS and DANE entries, as an operator's purge or refresh
     * asks for the whole fleet; completes (never exceptionally) once done or not.
     */
    CompletableFuture<Void> forget(String domain);

    /** Asks for the right to fetch {@code domain}'s policy for the fleet for {@link #leaseTime}. */
    CompletableFuture<Lease> lease(String domain);

    /** Gives up a lease this relay holds (one that lapsed and was taken over is left alone). */
    void release(String domain);

    /** How long a lease lasts: a fetch that takes longer is taken over by the next relay. */
    Duration leaseTime();

    /** How long a relay waiting for another's fetch waits between looks. */
    default Duration pollInterval() {
        return Duration.ofMillis(50);
    }

    /** A single relay: nothing is shared. */
    SharedTier NONE = new SharedTier() {
        private final CompletableFuture<Optional<StsEntry>> noSts =
                CompletableFuture.completedFuture(Optional.empty());
        private final CompletableFuture<Optional<StoredDane>> noDane =
                CompletableFuture.completedFuture(Optional.empty());
        private final CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        private final CompletableFuture<Lease> unavailable =
                CompletableFuture.completedFuture(Lease.UNAVAILABLE);

        @Override
        public CompletableFuture<Optional<StsEntry>> sts(String domain) {
            return noSts;
        }

        @Override
        public CompletableFuture<Void> putSts(String domain, StsEntry entry) {
            return done;
        }

        @Override
        public CompletableFuture<Optional<StoredDane>> dane(String domain) {
            return noDane;
        }

        @Override
        public CompletableFuture<Void> putDane(StoredDane result) {
            return done;
        }

        @Override
        public CompletableFuture<Void> forget(String domain) {
            return done;
        }

        @Override
        public CompletableFuture<Lease> lease(String domain) {
            return unavailable;
        }

        @Override
        public void release(String domain) {
        }

        @Override
        public Duration leaseTime() {
            return Duration.ZERO;
        }
    };
}
