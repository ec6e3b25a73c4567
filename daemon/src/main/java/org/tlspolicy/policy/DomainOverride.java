package org.tlspolicy.policy;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * An operator's fixed answer for one domain (config {@code overrides:}), in place of what DANE
 * and MTA-STS would decide: for a receiver whose policy is broken until it is fixed. It
 * applies to the domain itself, not its subdomains, and lapses at the end of its
 * {@code expires} day (UTC), so that a forgotten override stops hiding the real policy.
 *
 * @param domain  lowercase, without a trailing dot
 * @param policy  empty: no policy (NOTFOUND, Postfix's own level applies)
 * @param reason  why, for the log line, query and doctor
 * @param expires the last day it applies; empty: until removed
 */
public record DomainOverride(String domain, Optional<TlsPolicy> policy, String reason,
                       Optional<LocalDate> expires) {

    /** Whether it applies at {@code epochMillis}. */
    public boolean activeAt(long epochMillis) {
        return expires.isEmpty() || epochMillis < expires.get().plusDays(1)
                .atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    }

    /** The outcome it gives. */
    public PolicyOutcome outcome() {
        String why = "override: " + reason + expires.map(d -> " (until " + d + ")").orElse("");
        return policy.<PolicyOutcome>map(p -> new PolicyOutcome.Apply(p, "override", why))
                .orElseGet(() -> new PolicyOutcome.NoPolicy(why));
    }

    /** The policy as config writes it: {@code none} or Postfix's policy text. */
    public String policyText() {
        return policy.map(TlsPolicy::render).orElse("none");
    }
}
