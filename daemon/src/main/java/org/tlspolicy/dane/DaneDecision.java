package org.tlspolicy.dane;

import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.TlsPolicy;
import org.tlspolicy.tlsrpt.TlsrptAttributes;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Turns a domain's DANE status into the Postfix policy (shared README §2, RFC 7672 §2.2):
 * <ul>
 *   <li>every MX host has usable secure TLSA records → {@code dane-only} (Postfix defers rather
 *       than deliver without DANE authentication);</li>
 *   <li>some have → {@code dane} (Postfix looks TLSA up per host itself);</li>
 *   <li>secure TLSA records that are all unusable, and no MTA-STS policy → {@code dane}: Postfix
 *       then uses mandatory unauthenticated TLS with those hosts (RFC 7672 §2.2), which Postfix's
 *       own level may not ask for;</li>
 *   <li>null MX → no policy; a bogus or indeterminate answer → defer;</li>
 *   <li>otherwise DANE has nothing to say and MTA-STS decides.</li>
 * </ul>
 * Both DANE levels need {@code smtp_dns_support_level = dnssec} and a validating resolver in
 * Postfix's resolv.conf, which {@code tlspolicyd doctor} checks.
 *
 * <p>Replies to Postfix never carry TLSRPT attributes for DANE: Postfix 3.10 accepts
 * {@code policy_type} {@code sts} and {@code no-policy-found} only (anything else defers the
 * mail as "client TLS configuration problem"), and builds the TLSA policy of its TLSRPT report
 * from its own DANE lookup (Postfix TLSRPT_README; smtp_tlsrpt.c). Only the TLS-RPT sender's
 * map ({@link #forReports()}) names TLSA policies, in RFC 8460 §4.4's words.
 */
public final class DaneDecision {

    public static final String SOURCE = "dane";

    private final boolean reportTlsa;

    private DaneDecision(boolean reportTlsa) {
        this.reportTlsa = reportTlsa;
    }

    /** Decisions for Postfix's smtp_tls_policy_maps, whatever its version. */
    public static DaneDecision forPostfix() {
        return new DaneDecision(false);
    }

    /**
     * Decisions for the TLS-RPT sender's map: the same levels, with the TLSA policy (RFC 8460
     * §4.4: {@code policy_type=tlsa}, the TLSA records as policy strings) and {@code
     * policy_failure=tlsa-invalid} where every record is unusable.
     */
    public static DaneDecision forReports() {
        return new DaneDecision(true);
    }

    /** The outcome if DANE decides for {@code domain}, else null: then MTA-STS decides. */
    public PolicyOutcome decide(String domain, DaneLookup lookup) {
        if (lookup instanceof DaneLookup.Applies applies) {
            TlsPolicy.Level level = applies.mandatory() ? TlsPolicy.Level.DANE_ONLY
                    : TlsPolicy.Level.DANE;
            TlsPolicy policy = new TlsPolicy(level, List.of(), reportTlsa
                    ? TlsrptAttributes.tlsa(domain, records(applies.hosts()), true) : List.of());
            if (policy.render().length() > TlsPolicy.MAX_RENDERED) {
                policy = new TlsPolicy(level, List.of(),
                        TlsrptAttributes.tlsa(domain, records(applies.hosts()), false));
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
     * DANE on some MX hosts while the domain's MTA-STS policy is enforced: {@code dane-only}, so
     * that Postfix uses no host without authentication (see {@link DanePrecedence}).
     */
    public PolicyOutcome enforcedPartial(String domain, DaneLookup.Applies applies) {
        TlsPolicy policy = new TlsPolicy(TlsPolicy.Level.DANE_ONLY, List.of(), reportTlsa
                ? TlsrptAttributes.tlsa(domain, records(applies.hosts()), true) : List.of());
        if (policy.render().length() > TlsPolicy.MAX_RENDERED) {
            policy = new TlsPolicy(TlsPolicy.Level.DANE_ONLY, List.of(),
                    TlsrptAttributes.tlsa(domain, records(applies.hosts()), false));
        }
        return new PolicyOutcome.Apply(policy, SOURCE, "MX secure; " + hosts(applies.hosts())
                + "; MTA-STS enforce: dane-only, so that no MX host goes unauthenticated");
    }

    /**
     * What to answer when DANE does not apply and MTA-STS has no policy either: no policy,
     * unless secure TLSA records were found that are all unusable; then {@code dane}, so that
     * Postfix insists on TLS with those hosts (RFC 7672 §2.2: unusable TLSA records still mean
     * the server offers TLS; Postfix's {@code dane} level falls back to {@code encrypt} for them,
     * and to {@code may} for hosts without TLSA). For the TLS-RPT sender the reply names the
     * TLSA policy with {@code policy_failure=tlsa-invalid} (RFC 8460 §4.3.2).
     */
    public PolicyOutcome withoutPolicy(String domain, DaneLookup.NotApplicable dane,
                                       PolicyOutcome.NoPolicy sts) {
        String reason = "no DANE: " + dane.reason() + "; no MTA-STS: " + sts.reason();
        boolean unusable = dane.hosts().stream()
                .anyMatch(h -> h.status() == HostTlsa.Status.UNUSABLE);
        if (!unusable) {
            return new PolicyOutcome.NoPolicy(reason);
        }
        return new PolicyOutcome.Apply(new TlsPolicy(TlsPolicy.Level.DANE, List.of(),
                reportTlsa ? TlsrptAttributes.tlsaInvalid(domain, records(dane.hosts()))
                        : List.of()),
                SOURCE, "TLSA records unusable, TLS still required: " + reason);
    }

    /** Each host's TLSA records as RFC 8460 policy strings ("3 1 1 HEX"), in MX order. */
    private static Map<String, List<String>> records(List<HostTlsa> hosts) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (HostTlsa h : hosts) {
            out.put(h.host(), h.records().stream().map(Tlsa::toString).toList());
        }
        return out;
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
