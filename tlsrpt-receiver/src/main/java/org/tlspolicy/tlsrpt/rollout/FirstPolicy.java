package org.tlspolicy.tlsrpt.rollout;

import java.time.Instant;
import java.util.List;

/**
 * What a domain publishes to start with MTA-STS and TLSRPT (RFC 8461 §3, RFC 8460 §3): the
 * policy file in mode testing for its MX hosts, with {@code max_age} a day, the TXT record with
 * an id from the date, and the TLSRPT record that makes senders report.
 *
 * @param domain the policy domain
 * @param mx     its MX hosts, as the DNS names them
 * @param rua    where reports go, e.g. {@code mailto:tlsrpt@example.com}
 * @param at     the time the id is made from
 */
public record FirstPolicy(String domain, List<String> mx, String rua, Instant at) {

    public FirstPolicy {
        mx = List.copyOf(mx);
    }

    /** The text {@code publish} prints. */
    public String text() {
        Advice.Change c = new Advice.Change(Rollout.id(at), "testing", Rollout.DAY, mx);
        StringBuilder b = new StringBuilder();
        b.append("; 1. Serve this at https://mta-sts.").append(domain)
                .append("/.well-known/mta-sts.txt\n")
                .append(";    (Content-Type: text/plain, a certificate valid for mta-sts.")
                .append(domain).append(", no redirect):\n\n");
        c.policyFile().lines().forEach(l -> b.append(l).append('\n'));
        b.append("\n; 2. Then publish these records:\n\n")
                .append("mta-sts.").append(domain).append(". IN CNAME <your web server> ; or A/AAAA\n")
                .append(c.txtRecord(domain)).append('\n')
                .append("_smtp._tls.").append(domain).append(". IN TXT \"v=TLSRPTv1; rua=")
                .append(rua).append("\"\n\n")
                .append("; 3. Check: tlspolicyd audit ").append(domain).append('\n')
                .append("; 4. Take the reports in (docs/receiver.md), then, daily:\n")
                .append(";    tlsrpt-receiver rollout ").append(domain).append('\n');
        return b.toString();
    }
}
