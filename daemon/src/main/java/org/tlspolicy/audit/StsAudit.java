package org.tlspolicy.audit;

import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.mtasts.MxPattern;
import org.tlspolicy.mtasts.PolicyFetch;
import org.tlspolicy.mtasts.PolicyFetcher;
import org.tlspolicy.mtasts.StsPolicy;
import org.tlspolicy.mtasts.StsRecord;
import org.tlspolicy.outbound.PublicAddress;

import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A domain's MTA-STS as a sender reads it: the TXT record, the policy fetched with the
 * daemon's own fetcher (strict PKIX, no redirect, text/plain, size and time bounds), its mode
 * and max_age against what a rollout wants, and the policy host's certificate and its days.
 */
final class StsAudit {

    /** One week: the least {@code max_age} advised once a policy is enforced (RFC 8461 §3.2). */
    static final long WEEK = 604_800L;

    /** One day: the {@code max_age} advised while testing, so that a fix reaches senders soon. */
    static final long DAY = 86_400L;

    private final PolicyFetcher fetcher;
    private final HttpsHandshake https;
    private final ServedChain judge;
    private final Expiry expiry;
    private final boolean allowPrivate;

    StsAudit(PolicyFetcher fetcher, HttpsHandshake https, ServedChain judge, Expiry expiry,
             boolean allowPrivate) {
        this.fetcher = fetcher;
        this.https = https;
        this.judge = judge;
        this.expiry = expiry;
        this.allowPrivate = allowPrivate;
    }

    /** The {@code _mta-sts} TXT record (RFC 8461 §3.1): exactly one, with a valid id. */
    Optional<StsRecord> record(Findings d, DnsResult txt) {
        String subject = "_mta-sts." + d.domain;
        if (!(txt instanceof DnsResult.Data)) {
            d.add("mta-sts-record", subject, Level.FAIL, "TXT lookup failed: " + AuditDns.failure(txt),
                    "senders that cannot read the record skip MTA-STS: fix the DNS", "");
            return Optional.empty();
        }
        List<String> texts = AuditDns.texts(txt);
        // RFC 8461 §3.1: exactly one record beginning v=STSv1, with an id of 1-32 alphanumerics.
        StsRecord.Discovery found = StsRecord.discover(texts);
        if (found instanceof StsRecord.Discovery.Published p) {
            d.add("mta-sts-record", subject, Level.OK, "v=STSv1; id=" + p.record().id(), "", "");
            return Optional.of(p.record());
        }
        if (found instanceof StsRecord.Discovery.Invalid invalid) {
            d.add("mta-sts-record", subject, Level.FAIL, "invalid: " + invalid.reason() + " ("
                    + String.join(" | ", texts) + ")", "publish exactly one record: "
                    + "\"v=STSv1; id=" + Auditor.idOf(d.now) + "\"", "sts-policy-invalid");
            return Optional.empty();
        }
        d.add("mta-sts-record", subject, Level.WARN, "no v=STSv1 record: senders do not "
                + "use MTA-STS for this domain", "tlsrpt-receiver publish " + d.domain
                + " prints the records and policy to start with", "");
        return Optional.empty();
    }

    /**
     * The policy (RFC 8461 §3.2, §3.3) fetched as the daemon fetches it, from the policy
     * host at {@code addresses}, and that host's certificate apart.
     */
    Optional<StsPolicy> policy(Findings d, DnsResult addresses) {
        String host = PolicyFetcher.host(d.domain);
        String subject = "https://" + host + PolicyFetcher.PATH;
        if (!(addresses instanceof DnsResult.Answer answer)) {
            d.add("mta-sts-policy", subject, Level.FAIL, host + " has no address: "
                    + AuditDns.failure(addresses), "publish an A (or AAAA) record for " + host,
                    "sts-policy-fetch-error");
            return Optional.empty();
        }
        List<InetAddress> all = AuditDns.addresses(answer);
        policyHostCertificate(d, host, all);
        PolicyFetch fetch = fetcher.fetch(d.domain, all).join();
        if (fetch instanceof PolicyFetch.Failed failed) {
            d.add("mta-sts-policy", subject, Level.FAIL, failed.reason(), advice(failed),
                    failed.failure().resultType());
            return Optional.empty();
        }
        String body = ((PolicyFetch.Fetched) fetch).body();
        StsPolicy.Parse parsed = StsPolicy.parse(body);
        if (parsed instanceof StsPolicy.Parse.Invalid invalid) {
            d.add("mta-sts-policy", subject, Level.FAIL, "not a valid policy: "
                    + invalid.reason(), "serve version: STSv1, mode, mx and max_age lines "
                    + "(RFC 8461 §3.2)", "sts-policy-invalid");
            return Optional.empty();
        }
        StsPolicy p = ((StsPolicy.Parse.Valid) parsed).policy();
        String found = "mode " + p.mode().name().toLowerCase(Locale.ROOT) + ", max_age "
                + p.maxAgeSeconds() + ", mx " + p.mx().stream().map(MxPattern::toString)
                .collect(Collectors.joining(" "));
        switch (p.mode()) {
            case NONE -> d.add("mta-sts-policy", subject, Level.WARN, found + ": the policy is "
                    + "withdrawn", "remove the _mta-sts record once max_age has passed, or "
                    + "return to testing", "");
            case TESTING -> d.add("mta-sts-policy", subject, Level.OK, found,
                    p.maxAgeSeconds() > DAY ? "while testing, max_age " + DAY + " (a day) lets "
                            + "a change reach senders soon" : "tlsrpt-receiver rollout "
                            + d.domain + " says when to enforce", "");
            case ENFORCE -> {
                if (p.maxAgeSeconds() < WEEK) {
                    // RFC 8461 §3.2 recommends weeks: a short max_age lets an attacker who
                    // blocks the policy host wait until senders have forgotten the policy.
                    d.add("mta-sts-policy", subject, Level.WARN, found, "raise max_age to "
                            + WEEK + " (a week) or more (and bump the id)", "");
                } else {
                    d.add("mta-sts-policy", subject, Level.OK, found, "", "");
                }
            }
        }
        return Optional.of(p);
    }

    private static String advice(PolicyFetch.Failed failed) {
        String r = failed.reason();
        if (r.contains("redirect")) {
            return "serve the policy at that URL itself: senders follow no redirect "
                    + "(RFC 8461 §3.3)";
        }
        if (r.contains("content type")) {
            return "serve it as Content-Type: text/plain (RFC 8461 §3.2)";
        }
        if (failed.failure().resultType().equals("sts-webpki-invalid")) {
            return "install a certificate for the policy host from a public CA, with its "
                    + "intermediates";
        }
        return "serve the policy with status 200 at that URL";
    }

    private void policyHostCertificate(Findings d, String host, List<InetAddress> all) {
        List<InetAddress> vetted = allowPrivate ? all
                : all.stream().filter(PublicAddress::is).toList();
        if (vetted.isEmpty()) {
            return; // the fetch says why
        }
        Handshake h = https.probe(host, vetted.get(0));
        if (!(h instanceof Handshake.Secured secured)) {
            d.add("policy-host-certificate", host, Level.FAIL, reason(h), "serve HTTPS on "
                    + host + ":443", "sts-policy-fetch-error");
            return;
        }
        X509Certificate leaf = secured.chain().get(0);
        long days = ServedChain.daysLeft(leaf, d.now);
        d.certificates.add(new DomainAudit.Certificate(host, "policy-host", days));
        List<ServedChain.Problem> problems = judge.judge(secured.chain(), host, d.now);
        for (ServedChain.Problem p : problems) {
            // Whatever is wrong with the policy host's certificate, senders report one type.
            d.add("policy-host-certificate", host, Level.FAIL, p.why(), p.advice(),
                    "sts-webpki-invalid");
        }
        expiry.line("policy-host-certificate", host, "", leaf, days, Level.FAIL,
                "sts-webpki-invalid", "", problems.isEmpty()).ifPresent(d.findings::add);
    }

    private static String reason(Handshake h) {
        if (h instanceof Handshake.Unreachable u) {
            return u.reason();
        }
        if (h instanceof Handshake.Failed f) {
            return f.reason();
        }
        return h.toString();
    }
}
