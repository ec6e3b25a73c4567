package org.tlspolicy.dns;

import org.xbill.DNS.Record;

import java.util.List;

/**
 * The outcome of one DNS lookup. Expected failures are values, never exceptions: a caller must
 * decide, case by case, whether a failure means "no policy" or "defer the mail". {@link
 * Dnssec#of} classifies it as DNSSEC sees it.
 *
 * <p>{@code authenticated} is the AD bit of the final response (RFC 4035 §3.2.3, RFC 6840
 * §5.7): meaningful only when the answer came from a validating resolver we trust.
 */
public sealed interface DnsResult {

    /** What the DNS said (records, no data, no such name), as opposed to a failure to ask. */
    sealed interface Data extends DnsResult {

        boolean authenticated();

        /**
         * Seconds the answer may be cached: the least TTL of the records, or for a negative
         * answer the SOA's negative TTL (RFC 2308 §5); 0 when the response did not say.
         */
        long ttl();
    }

    /** Records of the asked type, after any CNAME chain. */
    record Answer(List<Record> records, boolean authenticated) implements Data {
        public Answer {
            records = List.copyOf(records);
        }

        @Override
        public long ttl() {
            long ttl = Long.MAX_VALUE;
            for (Record r : records) {
                ttl = Math.min(ttl, r.getTTL());
            }
            return records.isEmpty() ? 0 : ttl;
        }
    }

    /** The name exists but has no records of the asked type (NOERROR, empty answer). */
    record NoData(boolean authenticated, long ttl) implements Data {
        public NoData(boolean authenticated) {
            this(authenticated, 0);
        }
    }

    /** The name does not exist (RCODE NXDOMAIN). */
    record NxDomain(boolean authenticated, long ttl) implements Data {
        public NxDomain(boolean authenticated) {
            this(authenticated, 0);
        }
    }

    /**
     * The server answered with an error (SERVFAIL, REFUSED, …), or the response could not be
     * used (a CNAME loop, a chain too long). {@code reason} names it for logs.
     */
    record Failure(String reason) implements DnsResult {
    }

    /**
     * DNSSEC validation failed (RFC 4035 §5.5: bogus): signatures expired, missing or wrong, or
     * the chain of trust broken. From the in-process validator, or from a validating resolver
     * that said so with an Extended DNS Error (RFC 8914). An attack or a broken zone, never a
     * reason to act as if the records did not exist.
     */
    record Bogus(String reason) implements DnsResult {
    }

    /** No server answered within the time limit, after the configured retries. */
    record Timeout(String reason) implements DnsResult {
    }
}
