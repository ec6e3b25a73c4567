package org.tlspolicy.tlsrpt.rollout;

import org.tlspolicy.tlsrpt.summary.ReceivedSummary.FailureGroup;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whose a reported failure is, joined with the audit: the domain's (it must be fixed before
 * enforcing), a sender's (its network or software: it does not block), or not known (it blocks
 * too: the switch to enforce is the one step that can lose mail).
 *
 * <ul>
 *   <li>the domain's: the audit fails now on that MX host with the same kind of problem (an
 *       expired certificate, a name mismatch, an MX host not in the policy, a TLSA mismatch,
 *       no STARTTLS), or on the domain as a whole for a policy problem; or two or more
 *       independent reporters see the same result on the same MX host;</li>
 *   <li>a sender's: one reporter saw it from one sending address, or saw only {@code
 *       sts-policy-fetch-error} from one network (a /24 or /48): that sender's resolver,
 *       firewall or proxy;</li>
 *   <li>not known: anything else (one reporter from many addresses, say, with an audit that
 *       finds nothing now: fixed since, or intermittent).</li>
 * </ul>
 */
public final class Blame {

    /** Whose. */
    public enum Side { DOMAIN, SENDER, UNKNOWN }

    /** A kind of failure (result type on an MX host) and whose it is, with why. */
    public record Verdict(String resultType, String receivingMx, long sessions,
                          Set<String> organizations, Side side, String why) {
    }

    /** Result types a certificate problem may be reported as. */
    private static final Set<String> CERTIFICATE = Set.of("certificate-expired",
            "certificate-not-trusted", "certificate-host-mismatch", "validation-failure");

    private Blame() {
    }

    /** Judges each kind of failure in {@code groups} against {@code audit}'s failures. */
    public static List<Verdict> judge(List<FailureGroup> groups, AuditView audit) {
        record Kind(String result, String mx) {
        }
        return groups.stream().collect(Collectors.groupingBy(g -> new Kind(g.resultType(),
                        g.receivingMx()), java.util.LinkedHashMap::new, Collectors.toList()))
                .entrySet().stream().map(e -> verdict(e.getKey().result(), e.getKey().mx(),
                        e.getValue(), audit)).toList();
    }

    private static Verdict verdict(String result, String mx, List<FailureGroup> groups,
                                   AuditView audit) {
        long sessions = groups.stream().mapToLong(FailureGroup::count).sum();
        Set<String> orgs = groups.stream().map(FailureGroup::organization)
                .collect(Collectors.toCollection(java.util.TreeSet::new));
        Set<String> ips = groups.stream().map(FailureGroup::sendingIp)
                .collect(Collectors.toSet());
        for (AuditView.Finding f : audit.failures()) {
            if (agrees(f, result, mx)) {
                return new Verdict(result, mx, sessions, orgs, Side.DOMAIN, "the audit finds it "
                        + "now: " + f.check() + " " + f.subject() + ": " + f.found());
            }
        }
        if (orgs.size() >= 2) {
            return new Verdict(result, mx, sessions, orgs, Side.DOMAIN, orgs.size()
                    + " independent reporters see it");
        }
        if (ips.size() == 1) {
            return new Verdict(result, mx, sessions, orgs, Side.SENDER, "one reporter, from "
                    + "one address (" + ips.iterator().next() + "): that sender's network");
        }
        if (result.equals("sts-policy-fetch-error") && networks(ips) == 1) {
            return new Verdict(result, mx, sessions, orgs, Side.SENDER, "one reporter "
                    + "failing to fetch the policy from one network: its resolver or proxy");
        }
        return new Verdict(result, mx, sessions, orgs, Side.UNKNOWN, "one reporter from "
                + ips.size() + " addresses, and the audit finds nothing now: fixed since, or "
                + "intermittent");
    }

    /** Whether audit finding {@code f} explains reports of {@code result} on {@code mx}. */
    static boolean agrees(AuditView.Finding f, String result, String mx) {
        boolean sameHost = f.host().isEmpty() || mx.isEmpty() || f.host().equals(mx);
        if (!sameHost || f.result().isEmpty()) {
            return false;
        }
        if (f.result().equals(result)) {
            return true;
        }
        // Reporters name certificate problems loosely: a missing intermediate comes as
        // certificate-not-trusted from one and validation-failure from another.
        return CERTIFICATE.contains(f.result()) && CERTIFICATE.contains(result)
                && (result.equals("validation-failure") || f.result().equals(
                "validation-failure") || f.check().equals("mx-pattern"));
    }

    /** The number of /24 (IPv4) or /48 (IPv6) networks of {@code ips}. */
    static long networks(Set<String> ips) {
        return ips.stream().map(Blame::network).distinct().count();
    }

    private static String network(String ip) {
        // Only a literal is parsed: a name from a report is never looked up.
        if (!ip.matches("\\d{1,3}(\\.\\d{1,3}){3}")
                && !(ip.contains(":") && ip.matches("[0-9A-Fa-f:.]{2,45}"))) {
            return ip;
        }
        try {
            byte[] a = InetAddress.getByName(ip).getAddress();
            int keep = a.length == 4 ? 3 : 6;
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < keep; i++) {
                b.append(a[i] & 0xff).append('.');
            }
            return b.toString();
        } catch (UnknownHostException e) {
            return ip;
        }
    }
}
