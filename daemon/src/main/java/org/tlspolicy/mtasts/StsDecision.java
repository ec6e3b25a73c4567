package org.tlspolicy.mtasts;

import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.TlsPolicy;
import org.tlspolicy.tlsrpt.TlsrptAttributes;
import org.tlspolicy.tlsrpt.TlsrptMode;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a domain's MTA-STS state into the Postfix policy (shared README §2):
 * <ul>
 *   <li>enforce → {@code secure match=P1:P2 servername=hostname}, {@code *.x} as {@code .x};</li>
 *   <li>testing → no policy (Postfix's default level), or as enforce with strict_testing;</li>
 *   <li>none, no policy, or failures without a cached policy → no policy (RFC 8461 §3.3, §5);
 *       with TLSRPT attributes on and a known {@code may}/{@code encrypt} default level, a
 *       failure is reported through {@code policy_failure} at that same level.</li>
 * </ul>
 */
public final class StsDecision {

    public static final String SOURCE = "mta-sts";

    private final boolean strictTesting;
    private final TlsrptMode tlsrpt;

    /**
     * @param strictTesting apply testing-mode policies as enforce
     * @param tlsrpt        whether to add TLSRPT attributes
     */
    public StsDecision(boolean strictTesting, TlsrptMode tlsrpt) {
        this.strictTesting = strictTesting;
        this.tlsrpt = tlsrpt;
    }

    /** The outcome for {@code domain} in {@code state}. */
    public PolicyOutcome decide(String domain, StsState state) {
        if (state instanceof StsState.NoPolicy none) {
            if (none.failure() != null && tlsrpt.enabled() && tlsrpt.defaultLevel().isPresent()) {
                TlsPolicy.Level level = tlsrpt.defaultLevel().get().equals("encrypt")
                        ? TlsPolicy.Level.ENCRYPT : TlsPolicy.Level.MAY;
                return new PolicyOutcome.Apply(new TlsPolicy(level, List.of(),
                        TlsrptAttributes.stsFailure(domain, none.failure().type())), SOURCE,
                        none.failure().resultType() + ": " + none.reason());
            }
            return new PolicyOutcome.NoPolicy(none.reason());
        }
        StsState.Policy p = (StsState.Policy) state;
        StsPolicy policy = p.policy();
        String cachedNote = p.refreshProblem().isEmpty() ? ""
                : "; refresh failing, cached policy in force: " + p.refreshProblem();
        switch (policy.mode()) {
            case NONE:
                return new PolicyOutcome.NoPolicy("policy id=" + p.id() + " mode none");
            case TESTING:
                if (!strictTesting) {
                    return new PolicyOutcome.NoPolicy("policy id=" + p.id() + " mode testing");
                }
                break;
            default:
                break;
        }
        List<String> match = new ArrayList<>();
        for (MxPattern m : policy.mx()) {
            match.add(m.postfixMatch());
        }
        // Postfix reads replies up to 100000 bytes: if the TLSRPT attributes of a very long
        // policy would not fit, the policy strings go first, then the patterns; the policy
        // itself (level and match list, under 64 KiB since the body is) and the policy's type
        // and domain always stay, so the attempt is still reported.
        TlsPolicy tls = null;
        for (int detail = tlsrpt.enabled() ? 2 : -1; ; detail--) {
            List<String> attributes = new ArrayList<>();
            attributes.add("servername=hostname"); // the MX name as SNI (Postfix 3.4+)
            attributes.addAll(switch (detail) {
                case 2 -> TlsrptAttributes.sts(domain, patterns(policy), p.body());
                case 1 -> TlsrptAttributes.stsWithoutStrings(domain, patterns(policy));
                case 0 -> TlsrptAttributes.stsDomainOnly(domain);
                default -> List.<String>of();
            });
            tls = new TlsPolicy(TlsPolicy.Level.SECURE, match, attributes);
            if (detail <= 0 || tls.render().length() <= TlsPolicy.MAX_RENDERED) {
                break;
            }
        }
        String mode = policy.mode() == StsPolicy.Mode.TESTING ? "testing, strict_testing"
                : "enforce";
        return new PolicyOutcome.Apply(tls, SOURCE,
                "policy id=" + p.id() + " mode " + mode + cachedNote);
    }

    /** The policy's {@code mx} patterns as the policy writes them (RFC 8460 §4.4). */
    private static List<String> patterns(StsPolicy policy) {
        return policy.mx().stream().map(MxPattern::toString).toList();
    }
}
