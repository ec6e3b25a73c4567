package org.tlspolicy.daemon;

import org.tlspolicy.dane.DaneCache;
import org.tlspolicy.dane.DaneDecision;
import org.tlspolicy.dane.DanePrecedence;
import org.tlspolicy.mtasts.StsCache;
import org.tlspolicy.mtasts.StsDecision;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyResolver;
import org.tlspolicy.tlsrpt.TlsrptMode;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The policy a domain's sessions are reported under (RFC 8460 §4.4), for the TLS-RPT sender:
 * the same decision Postfix gets, from the same caches (no lookup of its own beyond what
 * Postfix's lookup made), but always with the TLSRPT attributes (policy type, domain, MX
 * patterns, policy strings), whatever Postfix's version, and with MTA-STS testing policies
 * included (RFC 8460 §3: their failures are reported although mail goes on).
 *
 * <p>Served on the socketmap map name {@link #MAP_NAME}; Postfix never asks for it.
 */
public final class ReportPolicyResolver implements PolicyResolver {

    /** The socketmap map name the sender asks. */
    public static final String MAP_NAME = "tlsrpt";

    private static final TlsrptMode ATTRIBUTES = new TlsrptMode(true, Optional.empty(),
            "tlsrpt: report policies");

    private final Optional<DaneCache> dane;
    private final Optional<StsCache> sts;
    private final DaneDecision daneDecision = DaneDecision.forReports();
    // strict: a testing policy is reported as the policy it is, not as "no policy".
    private final StsDecision stsDecision = new StsDecision(true, ATTRIBUTES);

    public ReportPolicyResolver(Optional<DaneCache> dane, Optional<StsCache> sts) {
        this.dane = dane;
        this.sts = sts;
    }

    @Override
    public PolicyOutcome known(NextHop.Domain domain) {
        return null; // always through resolve(): the caches answer at once when they know
    }

    @Override
    public CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain) {
        String name = domain.name();
        CompletableFuture<PolicyOutcome> stsOutcome = sts
                .map(c -> c.lookup(name).thenApply(s -> stsDecision.decide(name, s)))
                .orElseGet(() -> CompletableFuture.completedFuture(
                        new PolicyOutcome.NoPolicy("mta_sts disabled")));
        if (dane.isEmpty()) {
            return stsOutcome;
        }
        return dane.get().lookup(name).thenCompose(d -> {
            PolicyOutcome o = daneDecision.decide(name, d.lookup());
            if (o != null) {
                return CompletableFuture.completedFuture(o);
            }
            return stsOutcome.thenApply(s -> DanePrecedence.combine(daneDecision, name,
                    d.lookup(), s));
        });
    }
}
