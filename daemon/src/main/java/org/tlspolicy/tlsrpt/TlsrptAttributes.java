package org.tlspolicy.tlsrpt;

import org.tlspolicy.dane.HostTlsa;
import org.tlspolicy.dane.Tlsa;
import org.tlspolicy.mtasts.MxPattern;
import org.tlspolicy.mtasts.StsFailure;
import org.tlspolicy.mtasts.StsPolicy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The TLSRPT attributes of a policy table value (Postfix TLSRPT_README, "MTA-STS support via
 * smtp_tls_policy_maps"), so that a TLSRPT client can report which policy was applied (RFC 8460
 * §4.4).
 *
 * <p>What Postfix is sent is narrow, and checked by Postfix 3.10's smtp_tls_policy.c: {@code
 * policy_type} is {@code sts} (or {@code no-policy-found}, never sent here), {@code
 * policy_failure} one of {@code sts-policy-fetch-error}, {@code sts-policy-invalid}, {@code
 * sts-webpki-invalid}, {@code validation-failure}; any other value, or any of these attributes
 * without {@code policy_type}, defers the mail as "client TLS configuration problem". Postfix
 * before 3.10 rejects every one of them as an unknown attribute, so they are only added when
 * {@link TlsrptMode} says so. {@code policy_ttl} is never emitted: Postfix deprecated it.
 * {@link #tlsa} and {@link #tlsaInvalid} are for the TLS-RPT sender's own map only.
 */
public final class TlsrptAttributes {

    private TlsrptAttributes() {
    }

    /**
     * {@code policy_type=sts policy_domain=D mx_host_pattern=P… { policy_string = LINE }…} for
     * an applied MTA-STS policy. Lines holding a brace are left out of the policy strings: they
     * would end Postfix's {@code { name = value }} syntax early, and only extension lines (which
     * no receiver reads back) can hold one.
     */
    public static List<String> sts(String domain, StsPolicy policy, String body) {
        List<String> a = new ArrayList<>();
        a.add("policy_type=sts");
        a.add("policy_domain=" + domain);
        for (MxPattern p : policy.mx()) {
            a.add("mx_host_pattern=" + p);
        }
        for (String line : body.split("\n")) {
            String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            l = l.strip();
            if (!l.isEmpty() && l.indexOf('{') < 0 && l.indexOf('}') < 0) {
                a.add("{ policy_string = " + l + " }");
            }
        }
        return a;
    }

    /** The same attributes without the policy strings, for replies that would be too long. */
    public static List<String> stsWithoutStrings(String domain, StsPolicy policy) {
        return sts(domain, policy, "");
    }

    /**
     * Only {@code policy_type=sts policy_domain=D}, for a policy whose patterns alone would make
     * the reply too long: Postfix then checks MX names against the {@code match} list (which
     * holds the same patterns) and its reports name the policy without its patterns.
     */
    public static List<String> stsDomainOnly(String domain) {
        return List.of("policy_type=sts", "policy_domain=" + domain);
    }

    /**
     * {@code policy_type=tlsa policy_domain=D mx_host_pattern=H… { policy_string = U S M DATA }…}
     * for DANE (RFC 8460 §4.4: the policy strings of a TLSA policy are its records), with the
     * hosts that have TLSA records and each distinct record once; {@code withStrings} false
     * leaves the records out (for replies that would be too long). For the TLS-RPT sender's map
     * only: Postfix 3.10 defers mail on {@code policy_type=tlsa} and reports DANE from its own
     * TLSA lookup.
     */
    public static List<String> tlsa(String domain, List<HostTlsa> hosts, boolean withStrings) {
        List<String> a = new ArrayList<>();
        a.add("policy_type=tlsa");
        a.add("policy_domain=" + domain);
        Set<Tlsa> records = new LinkedHashSet<>();
        for (HostTlsa h : hosts) {
            if (!h.records().isEmpty()) {
                a.add("mx_host_pattern=" + h.host());
                records.addAll(h.records());
            }
        }
        if (withStrings) {
            for (Tlsa t : records) {
                a.add("{ policy_string = " + t + " }");
            }
        }
        return a;
    }

    /**
     * The TLSA attributes with {@code policy_failure=tlsa-invalid} (RFC 8460 §4.3.2: TLSA
     * records found, none of them usable). For the TLS-RPT sender's map only: not a value
     * Postfix accepts.
     */
    public static List<String> tlsaInvalid(String domain, List<HostTlsa> hosts) {
        List<String> a = new ArrayList<>(tlsa(domain, hosts, true));
        a.add("policy_failure=tlsa-invalid");
        return a;
    }

    /**
     * {@code policy_type=sts policy_domain=D policy_failure=TYPE}: a policy that failed. Every
     * {@link StsFailure} is one of the values Postfix 3.10 accepts.
     */
    public static List<String> stsFailure(String domain, StsFailure failure) {
        return List.of("policy_type=sts", "policy_domain=" + domain,
                "policy_failure=" + failure.resultType());
    }
}
