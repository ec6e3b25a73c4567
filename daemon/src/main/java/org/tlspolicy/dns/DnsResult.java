package org.tlspolicy.dns;

import org.xbill.DNS.Record;

import java.util.List;

/**
 * The outcome of one DNS lookup. Expected failures are values, never exceptions: a caller must
 * decide, case by case, whether a failure means "no policy" or "defer the mail".
 *
 * <p>{@code authenticated} is the AD bit of the final response (RFC 4035 §3.2.3, RFC 6840
 * §5.7): meaningful only when the answer came from a validating resolver we trust.
 */
public sealed interface DnsResult {

    /** Records of the asked type, after any CNAME chain. */
    record Answer(List<Record> records, boolean authenticated) implements DnsResult {
        public Answer {
            records = List.copyOf(records);
        }
    }

    /** The name exists but has no records of the asked type (NOERROR, empty answer). */
    record NoData(boolean authenticated) implements DnsResult {
    }

    /** The name does not exist (RCODE NXDOMAIN). */
    record NxDomain(boolean authenticated) implements DnsResult {
    }

    /**
     * The server answered with an error (SERVFAIL, REFUSED, …), or the response could not be
     * used (a CNAME loop, a chain too long). {@code reason} names it for logs.
     */
    record Failure(String reason) implements DnsResult {
    }

    /**
     * DNSSEC validation failed (RFC 4035 §5.5: bogus): signatures expired, missing or wrong, or
     * the chain of trust broken. Only from a client that validates; an attack or a broken zone,
     * never a reason to act as if the records did not exist.
     */
    record Bogus(String reason) implements DnsResult {
    }

    /** No server answered within the time limit, after the configured retries. */
    record Timeout(String reason) implements DnsResult {
    }
}
