package org.tlspolicy.dane;

import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyResolver;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * DANE first, then the other policy source (MTA-STS): RFC 8461 §2, "senders who implement
 * MTA-STS and DANE" validate with DANE where the domain publishes it, and a DANE failure is
 * never a reason to fall back to MTA-STS or to plain opportunistic TLS.
 *
 * <p>Both resolutions start together; the answer waits for MTA-STS only when DANE has nothing to
 * say (the MTA-STS one still completes and is cached either way), or when DANE covers only some
 * MX hosts: then an MTA-STS policy that is enforced makes the answer {@code dane-only}
 * ({@link DaneDecision#enforcedPartial}). Postfix's policy is per next hop, not per MX host
 * (shared README §3): {@code dane} would leave the hosts without TLSA at {@code may}, where an
 * attacker who blocks the others and strips STARTTLS gets the mail in clear although the domain
 * asked for enforce (issue 34, finding 2); {@code secure} would let MTA-STS override a failing
 * DANE validation, which RFC 8461 §2 forbids. {@code dane-only} never leaves a host
 * unauthenticated: the hosts with TLSA are authenticated by DANE, the others get no mail.
 */
public final class DanePrecedence implements PolicyResolver {

    private final DaneCache dane;
    private final DaneDecision decision;
    private final PolicyResolver then;

    public DanePrecedence(DaneCache dane, DaneDecision decision, PolicyResolver then) {
        this.dane = dane;
        this.decision = decision;
        this.then = then;
    }

    @Override
    public PolicyOutcome known(NextHop.Domain domain) {
        DaneState d = dane.known(domain.name());
        if (d == null) {
            return null;
        }
        if (d.outcome() != null) {
            if (d.lookup() instanceof DaneLookup.Applies a && !a.mandatory()) {
                PolicyOutcome sts = then.known(domain);
                return sts == null ? null : partial(domain.name(), a, d.outcome(), sts);
            }
            return d.outcome();
        }
        PolicyOutcome sts = then.known(domain);
        // The common case (neither DANE nor MTA-STS) returns MTA-STS's shared outcome: nothing
        // is built per lookup unless there are unusable TLSA records to report.
        if (sts instanceof PolicyOutcome.NoPolicy none
                && d.lookup() instanceof DaneLookup.NotApplicable na && anyUnusable(na.hosts())) {
            return decision.withoutPolicy(domain.name(), na, none);
        }
        return sts;
    }

    /**
     * A loop, not a stream: this runs for nearly every answer from memory without a policy,
     * and a stream pipeline per answer was a visible share of the allocation under
     * bench/run-cached's key mix.
     */
    private static boolean anyUnusable(List<HostTlsa> hosts) {
        for (int i = 0; i < hosts.size(); i++) {
            if (hosts.get(i).status() == HostTlsa.Status.UNUSABLE) {
                return true;
            }
        }
        return false;
    }

    @Override
    public CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain) {
        CompletableFuture<DaneState> daneState = dane.lookup(domain.name());
        CompletableFuture<PolicyOutcome> sts = then.resolve(domain);
        return daneState.thenCompose(d -> {
            if (d.outcome() != null && d.lookup() instanceof DaneLookup.Applies a
                    && !a.mandatory()) {
                return sts.thenApply(o -> partial(domain.name(), a, d.outcome(), o));
            }
            if (d.outcome() != null) {
                return CompletableFuture.completedFuture(d.outcome());
            }
            return sts.thenApply(outcome -> combine(domain.name(), d, outcome));
        });
    }

    /**
     * DANE on some MX hosts ({@code dane}), and MTA-STS's answer beside it: {@code dane-only}
     * when that answer enforces (see above), else DANE's {@code dane}.
     */
    private PolicyOutcome partial(String domain, DaneLookup.Applies dane, PolicyOutcome daneOutcome,
                                  PolicyOutcome sts) {
        return enforces(sts) ? decision.enforcedPartial(domain, dane) : daneOutcome;
    }

    /** Whether MTA-STS's outcome requires authenticated TLS (enforce, or strict testing). */
    static boolean enforces(PolicyOutcome sts) {
        return sts instanceof PolicyOutcome.Apply a
                && a.policy().level() == org.tlspolicy.policy.TlsPolicy.Level.SECURE;
    }

    private PolicyOutcome combine(String domain, DaneState d, PolicyOutcome sts) {
        return combine(decision, domain, d.lookup(), sts);
    }

    /**
     * The answer when DANE did not decide ({@link DaneDecision#decide} gave null): MTA-STS's,
     * with why DANE did not apply in the reason, or if MTA-STS has no policy either, {@link
     * DaneDecision#withoutPolicy}.
     */
    public static PolicyOutcome combine(DaneDecision decision, String domain, DaneLookup dane,
                                        PolicyOutcome sts) {
        if (!(dane instanceof DaneLookup.NotApplicable na)) {
            return sts;
        }
        if (sts instanceof PolicyOutcome.NoPolicy none) {
            return decision.withoutPolicy(domain, na, none);
        }
        if (sts instanceof PolicyOutcome.Apply a) {
            return new PolicyOutcome.Apply(a.policy(), a.source(),
                    a.reason() + "; no DANE: " + na.reason(), a.reply());
        }
        return sts;
    }
}
