package org.tlspolicy.dane;

import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.TlsPolicy;
import org.tlspolicy.tlsrpt.TlsrptAttributes;
import org.tlspolicy.tlsrpt.TlsrptMode;

import java.util.List;
import java.util.StringJoiner;

/**
 * Turns a domain's DANE status into the Postfix policy (shared README §2, RFC 7672 §2.2):
 * <ul>
 *   <li>every MX host has usable secure TLSA records → {@code dane-only} (Postfix defers rather
 *       than deliver without DANE authentication);</li>
 *   <li>some have → {@code dane} (Postfix looks TLSA up per host itself);</li>
 *   <li>null MX → no policy; a bogus or indeterminate answer → defer;</li>
 *   <li>otherwise DANE has nothing to say and MTA-STS decides.</li>
 * </ul>
 * Both DANE levels need {@code smtp_dns_support_level = dnssec} and a validating resolver in
 * Postfix's resolv.conf, which {@code tlspolicyd doctor} checks.
 */
public final class DaneDecision {

    public static final String SOURCE = "dane";

    private final TlsrptMode tlsrpt;

    public DaneDecision(TlsrptMode tlsrpt) {
        this.tlsrpt = tlsrpt;
    }

    /** The outcome if DANE decides for {@code domain}, else null: then MTA-STS decides. */
    public PolicyOutcome decide(String domain, DaneLookup lookup) {
        if (lookup instanceof DaneLookup.Applies applies) {
            TlsPolicy.Level level = applies.mandatory() ? TlsPolicy.Level.DANE_ONLY
                    : TlsPolicy.Level.DANE;
            TlsPolicy policy = new TlsPolicy(level, List.of(), tlsrpt.enabled()
                    ? TlsrptAttributes.tlsa(domain, applies.hosts(), true) : List.of());
            if (policy.render().length() > TlsPolicy.MAX_RENDERED) {
                policy = new TlsPolicy(level, List.of(),
                        TlsrptAttributes.tlsa(domain, applies.hosts(), false));
            }
            return new PolicyOutcome.Apply(policy, SOURCE, "MX secure; " + hosts(applies.hosts()));
        }
        if (lookup instanceof DaneLookup.NullMx) {
            return new PolicyOutcome.NoPolicy("null MX (RFC 7505): the domain accepts no mail");
        }
        if (lookup instanceof DaneLookup.Failed failed) {
            // RFC 7672 §2.1.1: with the DANE status unknowable, delivery must wait, not downgrade.
            return new PolicyOutcome.Defer((failed.bogus() ? "DNSSEC validation failed: "
                    : "DNS lookup failed: ") + failed.reason());
        }
        return null;
    }

    /**
     * What to answer when DANE does not apply and MTA-STS has no policy either: no policy,
     * unless TLSRPT attributes are on, Postfix's default level is known, and TLSA records were
     * found that are all unusable; then that level with {@code policy_failure=tlsa-invalid}, so
     * that the failure is reported (RFC 8460 §4.3.2).
     */
    public PolicyOutcome withoutPolicy(String domain, DaneLookup.NotApplicable dane,
                                       PolicyOutcome.NoPolicy sts) {
        String reason = "no DANE: " + dane.reason() + "; no MTA-STS: " + sts.reason();
        boolean unusable = dane.hosts().stream()
                .anyMatch(h -> h.status() == HostTlsa.Status.UNUSABLE);
        if (unusable && tlsrpt.enabled() && tlsrpt.defaultLevel().isPresent()) {
            TlsPolicy.Level level = tlsrpt.defaultLevel().get().equals("encrypt")
                    ? TlsPolicy.Level.ENCRYPT : TlsPolicy.Level.MAY;
            return new PolicyOutcome.Apply(new TlsPolicy(level, List.of(),
                    TlsrptAttributes.tlsaInvalid(domain, dane.hosts())), SOURCE,
                    "tlsa-invalid: " + reason);
        }
        return new PolicyOutcome.NoPolicy(reason);
    }

    /** {@code mx1.example usable TLSA (2), mx2.example: no TLSA at … (secure)}. */
    static String hosts(List<HostTlsa> hosts) {
        StringJoiner j = new StringJoiner(", ");
        for (HostTlsa h : hosts) {
            j.add(switch (h.status()) {
                case USABLE -> h.host() + " usable TLSA (" + h.records().size() + ")";
                case UNUSABLE -> h.host() + " unusable TLSA (" + h.records().size() + ")";
                default -> h.host() + ": " + h.detail();
            });
        }
        return j.toString();
    }
}
