package org.tlspolicy.mtasts;

import org.tlspolicy.nexthop.NextHop;

import java.util.Locale;
import java.util.Optional;

/**
 * One {@code mx:} pattern of an MTA-STS policy (RFC 8461 §3.2, §4.1): a host name, or
 * {@code *.} and a host name, where the wildcard stands for exactly one leftmost label.
 *
 * @param wildcard true for {@code *.base}
 * @param base     the host name, lowercase A-labels, no trailing dot
 */
public record MxPattern(boolean wildcard, String base) {

    /** Parses a pattern; empty when it is not {@code ["*."] Domain}. */
    public static Optional<MxPattern> parse(String text) {
        boolean wildcard = text.startsWith("*.");
        String base = wildcard ? text.substring(2) : text;
        // RFC 8461 §3.2: sts-policy-mx-value = ["*."] Domain, Domain as in RFC 5321: ASCII
        // letters, digits and hyphens. NextHop applies exactly those host-name rules.
        if (!base.chars().allMatch(c -> c > ' ' && c < 0x7f)
                || !(NextHop.parse(base) instanceof NextHop.Domain domain)
                || !domain.name().equals(base.toLowerCase(Locale.ROOT))) {
            return Optional.empty();
        }
        return Optional.of(new MxPattern(wildcard, domain.name()));
    }

    /**
     * RFC 8461 §4.1: does the MX host {@code host} (lowercase, no trailing dot) match? A
     * wildcard matches one label only: {@code *.example.com} matches {@code mx.example.com} but
     * neither {@code example.com} nor {@code a.mx.example.com}.
     */
    public boolean matches(String host) {
        if (!wildcard) {
            return host.equals(base);
        }
        int dot = host.indexOf('.');
        return dot > 0 && host.substring(dot + 1).equals(base);
    }

    /**
     * The pattern as a Postfix {@code match=} element: {@code *.example.net} becomes
     * {@code .example.net}, which Postfix also matches at deeper levels (shared README §2;
     * Postfix 3.10.5+ can enforce the exact one-label rule with
     * {@code smtp_tls_enforce_sts_mx_patterns}).
     */
    public String postfixMatch() {
        return wildcard ? "." + base : base;
    }

    /** The pattern as the policy spells it. */
    @Override
    public String toString() {
        return wildcard ? "*." + base : base;
    }
}
