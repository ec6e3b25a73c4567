package org.tlspolicy.audit;

import org.tlspolicy.dane.MxHosts;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.dns.Dnssec;
import org.tlspolicy.mtasts.MxPattern;
import org.tlspolicy.mtasts.PolicyFetcher;
import org.tlspolicy.mtasts.StsPolicy;
import org.tlspolicy.mtasts.StsRecord;
import org.xbill.DNS.Type;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Audits a domain as a sending MTA sees it ({@code tlspolicyd audit}): its MTA-STS record and
 * policy, the policy host's certificate ({@link StsAudit}), its MX records and the policy's
 * patterns against them, each MX host (STARTTLS, the chain it sends, names, dates, TLSA:
 * {@link MxHostAudit}), and its TLSRPT record ({@link TlsrptAudit}). The DNS is asked through
 * the validating client DANE uses, policies fetched as the daemon fetches them (strict PKIX, no
 * redirects, size and time bounds), and hosts on non-global addresses are not connected to
 * unless {@code allowPrivate} (as the fetcher).
 *
 * <p>Findings say what senders would report (RFC 8460 §4.3.2 result types), so that {@code
 * tlsrpt-receiver rollout} can match the reports' failures against them.
 */
public final class Auditor implements AutoCloseable {

    /** MX hosts audited at most per domain. */
    static final int MAX_HOSTS = 16;

    /**
     * @param expiry       days-to-expiry thresholds
     * @param timeout      the limit of each network step (connect, reply, handshake)
     * @param smtpPort     25; test worlds may use another
     * @param ehloName     the name given in EHLO
     * @param allowPrivate connect to hosts on non-global addresses (test worlds)
     * @param concurrency  domains audited at once
     */
    public record Settings(ServedChain.Thresholds expiry, Duration timeout, int smtpPort,
                           String ehloName, boolean allowPrivate, int concurrency) {
    }

    private final DnsClient dns;
    private final Settings settings;
    private final Clock clock;
    private final StsAudit sts;
    private final MxHostAudit mxHosts;
    private final ExecutorService domains;
    private final ExecutorService hosts;

    /**
     * @param dns     validating (or trusting a loopback validator's AD bit), as DANE's
     * @param fetcher the daemon's policy fetcher
     * @param judge   the trust senders have (the JVM's anchors and mta_sts.extra_ca_file)
     */
    public Auditor(DnsClient dns, PolicyFetcher fetcher, ServedChain judge, Settings settings,
                   Clock clock) {
        this.dns = dns;
        this.settings = settings;
        this.clock = clock;
        Expiry expiry = new Expiry(settings.expiry());
        this.sts = new StsAudit(fetcher, new HttpsHandshake(settings.timeout(), 443), judge,
                expiry, settings.allowPrivate());
        this.mxHosts = new MxHostAudit(dns, new SmtpStarttls(settings.ehloName(),
                settings.timeout(), settings.smtpPort()), judge, expiry,
                settings.allowPrivate(), settings.timeout());
        this.domains = Executors.newFixedThreadPool(settings.concurrency(), r -> daemon(r,
                "audit-domain"));
        // Probes block on sockets; a domain waits on its hosts, so they run on threads apart.
        this.hosts = Executors.newFixedThreadPool(settings.concurrency() * 4, r -> daemon(r,
                "audit-host"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Audits {@code names} (A-labels, lower case), at most {@code concurrency} at once. */
    public List<DomainAudit> audit(List<String> names) {
        List<CompletableFuture<DomainAudit>> all = new ArrayList<>();
        for (String d : names) {
            all.add(CompletableFuture.supplyAsync(() -> audit(d), domains));
        }
        return all.stream().map(CompletableFuture::join).toList();
    }

    /** Audits one domain. */
    public DomainAudit audit(String domain) {
        Instant now = clock.instant();
        Duration timeout = settings.timeout();
        Findings d = new Findings(domain, now);
        CompletableFuture<DnsResult> stsTxt = dns.lookup(AuditDns.name("_mta-sts." + domain),
                Type.TXT);
        CompletableFuture<DnsResult> rptTxt = dns.lookup(AuditDns.name("_smtp._tls." + domain),
                Type.TXT);
        CompletableFuture<DnsResult> mx = dns.lookup(AuditDns.name(domain), Type.MX);
        CompletableFuture<DnsResult> policyHost = dns.addresses(AuditDns.name(
                PolicyFetcher.host(domain)));

        Optional<StsRecord> record = sts.record(d, AuditDns.join(stsTxt, timeout));
        Optional<StsPolicy> policy = record.isPresent()
                ? sts.policy(d, AuditDns.join(policyHost, timeout)) : Optional.empty();
        Dnssec mxAnswer = Dnssec.of(AuditDns.join(mx, timeout));
        List<String> hostNames = mxHosts(d, mxAnswer, record.isPresent());
        policy.ifPresent(p -> patterns(d, p, hostNames));
        boolean mxSecure = mxAnswer instanceof Dnssec.Secure;
        List<CompletableFuture<MxHostAudit.Result>> probes = new ArrayList<>();
        for (String h : hostNames) {
            probes.add(CompletableFuture.supplyAsync(() -> mxHosts.audit(h, now,
                    record.isPresent(), mxSecure), hosts));
        }
        for (CompletableFuture<MxHostAudit.Result> p : probes) {
            MxHostAudit.Result h = p.join();
            d.findings.addAll(h.findings());
            d.certificates.addAll(h.certificates());
            h.tlsa().ifPresent(d.tlsa::add);
        }
        TlsrptAudit.check(d, AuditDns.join(rptTxt, timeout));
        return new DomainAudit(domain, d.findings, policy.map(p -> new DomainAudit.Policy(
                record.get().id(), p.mode().name().toLowerCase(Locale.ROOT), p.maxAgeSeconds(),
                p.mx().stream().map(MxPattern::toString).toList())), d.certificates, d.tlsa);
    }

    /** The MX hosts, most preferred first, or none when there is nothing to probe. */
    private List<String> mxHosts(Findings d, Dnssec answer, boolean sts) {
        String subject = d.domain + " MX";
        if (answer instanceof Dnssec.Bogus bogus) {
            d.add("mx", subject, Level.FAIL, "DNSSEC-bogus: " + bogus.reason(), "fix the zone's "
                    + "signatures: DANE senders defer all mail", "dnssec-invalid");
            return List.of();
        }
        if (answer instanceof Dnssec.Indeterminate failed) {
            d.add("mx", subject, Level.FAIL, "lookup failed: " + failed.reason(), "fix the DNS",
                    "");
            return List.of();
        }
        Dnssec.Known known = (Dnssec.Known) answer;
        if (!(known.data() instanceof DnsResult.Answer records)) {
            d.add("mx", subject, Level.FAIL, "no MX records", "publish MX records (MTA-STS "
                    + "and DANE apply to MX hosts)", "");
            return List.of();
        }
        MxHosts mx = MxHosts.of(records.records());
        if (mx.nullMx()) {
            d.add("mx", subject, Level.OK, "null MX (RFC 7505): the domain accepts no mail", "", "");
            return List.of();
        }
        boolean secure = answer instanceof Dnssec.Secure;
        String found = String.join(", ", mx.hosts()) + "; DNSSEC " + answer.status();
        if (secure) {
            d.add("mx", subject, Level.OK, found, "", "");
        } else if (sts) {
            d.add("mx", subject, Level.OK, found, "sign the zone to offer DANE as well", "");
        } else {
            d.add("mx", subject, Level.WARN, found + ": neither MTA-STS nor DANE protects "
                    + "mail to this domain", "publish MTA-STS (tlsrpt-receiver publish "
                    + d.domain + "), or sign the zone and publish TLSA records", "");
        }
        if (mx.hosts().size() > MAX_HOSTS) {
            d.add("mx", subject, Level.WARN, mx.hosts().size() + " MX hosts: only the first "
                    + MAX_HOSTS + " are audited", "", "");
            return mx.hosts().subList(0, MAX_HOSTS);
        }
        return mx.hosts();
    }

    /** RFC 8461 §4.1: every MX host matches a pattern; and a pattern matching none is stale. */
    private static void patterns(Findings d, StsPolicy p, List<String> hosts) {
        for (String h : hosts) {
            if (p.allows(h)) {
                String pattern = p.mx().stream().filter(m -> m.matches(h)).findFirst()
                        .map(MxPattern::toString).orElse("");
                d.findings.add(new Finding("mx-pattern", h, Level.OK, "matches mx: " + pattern,
                        "", "", h));
            } else {
                // Senders in enforce refuse the host; in testing they report the certificate
                // as not matching the policy.
                d.findings.add(new Finding("mx-pattern", h, p.mode() == StsPolicy.Mode.NONE
                        ? Level.WARN : Level.FAIL, "matches none of the policy's mx patterns",
                        "add \"mx: " + h + "\" to the policy and bump the id of _mta-sts."
                        + d.domain, "certificate-host-mismatch", h));
            }
        }
        for (MxPattern m : p.mx()) {
            if (hosts.stream().noneMatch(m::matches)) {
                d.add("mx-pattern", m.toString(), Level.WARN, "matches no MX host of "
                        + d.domain, "remove the stale pattern (and bump the id)", "");
            }
        }
    }

    /** A policy id from a time: UTC yyyyMMddHHmmss (RFC 8461 §3.1: 1-32 alphanumerics). */
    public static String idOf(Instant t) {
        return java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
                .withZone(java.time.ZoneOffset.UTC).format(t);
    }

    @Override
    public void close() {
        domains.shutdownNow();
        hosts.shutdownNow();
    }
}
