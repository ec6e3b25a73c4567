package org.tlspolicy.tlsrpt;

import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
 * {@link #tlsa} and {@link #tlsaInvalid} are for the TLS-RPT sender's own map only. It knows
 * the RFC's nouns only (domains, patterns, record text), not how the daemon found them.
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
    public static List<String> sts(String domain, List<String> mxPatterns, String body) {
        List<String> a = new ArrayList<>();
        a.add("policy_type=" + PolicyType.STS.token());
        a.add("policy_domain=" + domain);
        for (String p : mxPatterns) {
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
    public static List<String> stsWithoutStrings(String domain, List<String> mxPatterns) {
        return sts(domain, mxPatterns, "");
    }

    /**
     * Only {@code policy_type=sts policy_domain=D}, for a policy whose patterns alone would make
     * the reply too long: Postfix then checks MX names against the {@code match} list (which
     * holds the same patterns) and its reports name the policy without its patterns.
     */
    public static List<String> stsDomainOnly(String domain) {
        return List.of("policy_type=" + PolicyType.STS.token(), "policy_domain=" + domain);
    }

    /**
     * {@code policy_type=tlsa policy_domain=D mx_host_pattern=H… { policy_string = U S M DATA }…}
     * for DANE (RFC 8460 §4.4: the policy strings of a TLSA policy are its records), with the
     * hosts that have TLSA records and each distinct record once; {@code withStrings} false
     * leaves the records out (for replies that would be too long). For the TLS-RPT sender's map
     * only: Postfix 3.10 defers mail on {@code policy_type=tlsa} and reports DANE from its own
     * TLSA lookup.
     */
    public static List<String> tlsa(String domain, Map<String, List<String>> recordsByHost,
                                    boolean withStrings) {
        List<String> a = new ArrayList<>();
        a.add("policy_type=" + PolicyType.TLSA.token());
        a.add("policy_domain=" + domain);
        Set<String> records = new LinkedHashSet<>();
        recordsByHost.forEach((host, hostRecords) -> {
            if (!hostRecords.isEmpty()) {
                a.add("mx_host_pattern=" + host);
                records.addAll(hostRecords);
            }
        });
        if (withStrings) {
            for (String t : records) {
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
    public static List<String> tlsaInvalid(String domain,
                                           Map<String, List<String>> recordsByHost) {
        List<String> a = new ArrayList<>(tlsa(domain, recordsByHost, true));
        a.add("policy_failure=" + ResultType.TLSA_INVALID.token());
        return a;
    }

    /**
     * {@code policy_type=sts policy_domain=D policy_failure=TYPE}: a policy that failed. Every
     * MTA-STS failure type (RFC 8460 §4.3.2.2) is one of the values Postfix 3.10 accepts.
     */
    public static List<String> stsFailure(String domain, ResultType failure) {
        return List.of("policy_type=" + PolicyType.STS.token(), "policy_domain=" + domain,
                "policy_failure=" + failure.token());
    }
}
