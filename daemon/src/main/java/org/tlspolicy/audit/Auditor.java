package org.tlspolicy.audit;

import org.tlspolicy.dane.MxHosts;
import org.tlspolicy.dane.Tlsa;
import org.tlspolicy.dane.TlsaMatch;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.dns.Dnssec;
import org.tlspolicy.mtasts.MxPattern;
import org.tlspolicy.mtasts.PolicyFetch;
import org.tlspolicy.mtasts.PolicyFetcher;
import org.tlspolicy.mtasts.StsPolicy;
import org.tlspolicy.mtasts.StsRecord;
import org.tlspolicy.outbound.PublicAddress;
import org.tlspolicy.tlsrpt.rua.ReportDestination;
import org.tlspolicy.tlsrpt.rua.TlsrptRecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import java.net.InetAddress;
import java.security.cert.X509Certificate;
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
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Audits a domain as a sending MTA sees it ({@code tlspolicyd audit}): its MTA-STS record and
 * policy, the policy host's certificate, its MX hosts (STARTTLS, the chain they send, names,
 * dates), their TLSA records against that chain, and its TLSRPT record. The DNS is asked
 * through the validating client DANE uses, policies fetched as the daemon fetches them (strict
 * PKIX, no redirects, size and time bounds), and MX hosts on non-global addresses are not
 * connected to unless {@code allowPrivate} (as the fetcher).
 *
 * <p>Findings say what senders would report (RFC 8460 §4.3.2 result types), so that {@code
 * tlsrpt-receiver rollout} can match the reports' failures against them.
 */
public final class Auditor implements AutoCloseable {

    /** Addresses of an MX host probed at most (a host's A and AAAA are rarely more). */
    static final int MAX_ADDRESSES = 4;

    /** MX hosts audited at most per domain. */
    static final int MAX_HOSTS = 16;

    /** One week: the least {@code max_age} advised once a policy is enforced (RFC 8461 §3.2). */
    static final long WEEK = 604_800L;

    /** One day: the {@code max_age} advised while testing, so that a fix reaches senders soon. */
    static final long DAY = 86_400L;

    /**
     * @param expiry       days-to-expiry thresholds
     * @param timeout      the limit of each network step (connect, reply, handshake)
     * @param smtpPort     25; test worlds may use another
     * @param ehloName     the name given in EHLO
     * @param allowPrivate connect to MX hosts on non-global addresses (test worlds)
     * @param concurrency  domains audited at once
     */
    public record Settings(ServedChain.Thresholds expiry, Duration timeout, int smtpPort,
                           String ehloName, boolean allowPrivate, int concurrency) {
    }

    private final DnsClient dns;
    private final PolicyFetcher fetcher;
    private final ServedChain judge;
    private final Settings settings;
    private final Clock clock;
    private final SmtpStarttls smtp;
    private final HttpsHandshake https;
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
        this.fetcher = fetcher;
        this.judge = judge;
        this.settings = settings;
        this.clock = clock;
        this.smtp = new SmtpStarttls(settings.ehloName(), settings.timeout(),
                settings.smtpPort());
        this.https = new HttpsHandshake(settings.timeout(), 443);
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

    /** Audits {@code domains} (A-labels, lower case), at most {@code concurrency} at once. */
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
        Domain d = new Domain(domain, now);
        CompletableFuture<DnsResult> stsTxt = dns.lookup(name("_mta-sts." + domain), Type.TXT);
        CompletableFuture<DnsResult> rptTxt = dns.lookup(name("_smtp._tls." + domain),
                Type.TXT);
        CompletableFuture<DnsResult> mx = dns.lookup(name(domain), Type.MX);
        CompletableFuture<DnsResult> policyHost = dns.addresses(name(
                PolicyFetcher.host(domain)));

        Optional<StsRecord> record = stsRecord(d, join(stsTxt));
        Optional<StsPolicy> policy = record.isPresent() ? policy(d, join(policyHost))
                : Optional.empty();
        Dnssec mxAnswer = Dnssec.of(join(mx));
        List<String> hostNames = mxHosts(d, mxAnswer, record.isPresent());
        policy.ifPresent(p -> patterns(d, p, hostNames));
        boolean mxSecure = mxAnswer instanceof Dnssec.Secure;
        List<CompletableFuture<HostAudit>> probes = new ArrayList<>();
        for (String h : hostNames) {
            probes.add(CompletableFuture.supplyAsync(() -> host(h, now, record.isPresent(),
                    mxSecure), hosts));
        }
        for (CompletableFuture<HostAudit> p : probes) {
            HostAudit h = p.join();
            d.findings.addAll(h.findings);
            d.certificates.addAll(h.certificates);
            h.tlsa.ifPresent(d.tlsa::add);
        }
        tlsrpt(d, join(rptTxt));
        return new DomainAudit(domain, d.findings, policy.map(p -> new DomainAudit.Policy(
                record.get().id(), p.mode().name().toLowerCase(Locale.ROOT), p.maxAgeSeconds(),
                p.mx().stream().map(MxPattern::toString).toList())), d.certificates, d.tlsa);
    }

    /** What one domain's audit gathers. */
    private static final class Domain {
        final String name;
        final Instant now;
        final List<Finding> findings = new ArrayList<>();
        final List<DomainAudit.Certificate> certificates = new ArrayList<>();
        final List<DomainAudit.TlsaState> tlsa = new ArrayList<>();

        Domain(String name, Instant now) {
            this.name = name;
            this.now = now;
        }

        void add(String check, String subject, Level level, String found, String advice,
                 String result, String host) {
            findings.add(new Finding(check, subject, level, found, advice, result, host));
        }
    }

    // ---- MTA-STS ------------------------------------------------------------------------

    private Optional<StsRecord> stsRecord(Domain d, DnsResult txt) {
        String subject = "_mta-sts." + d.name;
        if (!(txt instanceof DnsResult.Data)) {
            d.add("mta-sts-record", subject, Level.FAIL, "TXT lookup failed: " + failure(txt),
                    "senders that cannot read the record skip MTA-STS: fix the DNS", "", "");
            return Optional.empty();
        }
        List<String> texts = texts(txt);
        // RFC 8461 §3.1: exactly one record beginning v=STSv1, with an id of 1-32 alphanumerics.
        StsRecord.Discovery found = StsRecord.discover(texts);
        if (found instanceof StsRecord.Discovery.Published p) {
            d.add("mta-sts-record", subject, Level.OK, "v=STSv1; id=" + p.record().id(), "", "",
                    "");
            return Optional.of(p.record());
        }
        if (found instanceof StsRecord.Discovery.Invalid invalid) {
            d.add("mta-sts-record", subject, Level.FAIL, "invalid: " + invalid.reason() + " ("
                    + String.join(" | ", texts) + ")", "publish exactly one record: "
                    + "\"v=STSv1; id=" + idOf(d.now) + "\"", "sts-policy-invalid", "");
            return Optional.empty();
        }
        d.add("mta-sts-record", subject, Level.WARN, "no v=STSv1 record: senders do not "
                + "use MTA-STS for this domain", "tlsrpt-receiver publish " + d.name
                + " prints the records and policy to start with", "", "");
        return Optional.empty();
    }

    private Optional<StsPolicy> policy(Domain d, DnsResult addresses) {
        String host = PolicyFetcher.host(d.name);
        String subject = fetcherUri(d.name);
        if (!(addresses instanceof DnsResult.Answer answer)) {
            d.add("mta-sts-policy", subject, Level.FAIL, host + " has no address: "
                    + failure(addresses), "publish an A (or AAAA) record for " + host,
                    "sts-policy-fetch-error", "");
            return Optional.empty();
        }
        List<InetAddress> all = addressesOf(answer);
        policyHostCertificate(d, host, all);
        PolicyFetch fetch = fetcher.fetch(d.name, all).join();
        if (fetch instanceof PolicyFetch.Failed failed) {
            d.add("mta-sts-policy", subject, Level.FAIL, failed.reason(), advice(failed),
                    failed.failure().resultType(), "");
            return Optional.empty();
        }
        String body = ((PolicyFetch.Fetched) fetch).body();
        StsPolicy.Parse parsed = StsPolicy.parse(body);
        if (parsed instanceof StsPolicy.Parse.Invalid invalid) {
            d.add("mta-sts-policy", subject, Level.FAIL, "not a valid policy: "
                    + invalid.reason(), "serve version: STSv1, mode, mx and max_age lines "
                    + "(RFC 8461 §3.2)", "sts-policy-invalid", "");
            return Optional.empty();
        }
        StsPolicy p = ((StsPolicy.Parse.Valid) parsed).policy();
        String found = "mode " + p.mode().name().toLowerCase(Locale.ROOT) + ", max_age "
                + p.maxAgeSeconds() + ", mx " + p.mx().stream().map(MxPattern::toString)
                .collect(Collectors.joining(" "));
        switch (p.mode()) {
            case NONE -> d.add("mta-sts-policy", subject, Level.WARN, found + ": the policy is "
                    + "withdrawn", "remove the _mta-sts record once max_age has passed, or "
                    + "return to testing", "", "");
            case TESTING -> d.add("mta-sts-policy", subject, Level.OK, found,
                    p.maxAgeSeconds() > DAY ? "while testing, max_age " + DAY + " (a day) lets "
                            + "a change reach senders soon" : "tlsrpt-receiver rollout "
                            + d.name + " says when to enforce", "", "");
            case ENFORCE -> {
                if (p.maxAgeSeconds() < WEEK) {
                    // RFC 8461 §3.2 recommends weeks: a short max_age lets an attacker who
                    // blocks the policy host wait until senders have forgotten the policy.
                    d.add("mta-sts-policy", subject, Level.WARN, found, "raise max_age to "
                            + WEEK + " (a week) or more (and bump the id)", "", "");
                } else {
                    d.add("mta-sts-policy", subject, Level.OK, found, "", "", "");
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

    private void policyHostCertificate(Domain d, String host, List<InetAddress> all) {
        List<InetAddress> vetted = vetted(all);
        if (vetted.isEmpty()) {
            return; // the fetch says why
        }
        Handshake h = https.probe(host, vetted.get(0));
        if (!(h instanceof Handshake.Secured secured)) {
            d.add("policy-host-certificate", host, Level.FAIL, reason(h), "serve HTTPS on "
                    + host + ":443", "sts-policy-fetch-error", "");
            return;
        }
        X509Certificate leaf = secured.chain().get(0);
        long days = ServedChain.daysLeft(leaf, d.now);
        d.certificates.add(new DomainAudit.Certificate(host, "policy-host", days));
        List<ServedChain.Problem> problems = judge.judge(secured.chain(), host, d.now);
        for (ServedChain.Problem p : problems) {
            // Whatever is wrong with the policy host's certificate, senders report one type.
            d.add("policy-host-certificate", host, Level.FAIL, p.why(), p.advice(),
                    "sts-webpki-invalid", "");
        }
        expiry("policy-host-certificate", host, "", leaf, days, Level.FAIL,
                "sts-webpki-invalid", "", problems.isEmpty()).ifPresent(d.findings::add);
    }

    /** The MX hosts, most preferred first, or none when there is nothing to probe. */
    private List<String> mxHosts(Domain d, Dnssec answer, boolean sts) {
        String subject = d.name + " MX";
        if (answer instanceof Dnssec.Bogus bogus) {
            d.add("mx", subject, Level.FAIL, "DNSSEC-bogus: " + bogus.reason(), "fix the zone's "
                    + "signatures: DANE senders defer all mail", "dnssec-invalid", "");
            return List.of();
        }
        if (answer instanceof Dnssec.Indeterminate failed) {
            d.add("mx", subject, Level.FAIL, "lookup failed: " + failed.reason(), "fix the DNS",
                    "", "");
            return List.of();
        }
        Dnssec.Known known = (Dnssec.Known) answer;
        if (!(known.data() instanceof DnsResult.Answer records)) {
            d.add("mx", subject, Level.FAIL, "no MX records", "publish MX records (MTA-STS "
                    + "and DANE apply to MX hosts)", "", "");
            return List.of();
        }
        MxHosts mx = MxHosts.of(records.records());
        if (mx.nullMx()) {
            d.add("mx", subject, Level.OK, "null MX (RFC 7505): the domain accepts no mail", "",
                    "", "");
            return List.of();
        }
        boolean secure = answer instanceof Dnssec.Secure;
        String found = String.join(", ", mx.hosts()) + "; DNSSEC " + answer.status();
        if (secure) {
            d.add("mx", subject, Level.OK, found, "", "", "");
        } else if (sts) {
            d.add("mx", subject, Level.OK, found, "sign the zone to offer DANE as well", "",
                    "");
        } else {
            d.add("mx", subject, Level.WARN, found + ": neither MTA-STS nor DANE protects "
                    + "mail to this domain", "publish MTA-STS (tlsrpt-receiver publish "
                    + d.name + "), or sign the zone and publish TLSA records", "", "");
        }
        if (mx.hosts().size() > MAX_HOSTS) {
            d.add("mx", subject, Level.WARN, mx.hosts().size() + " MX hosts: only the first "
                    + MAX_HOSTS + " are audited", "", "", "");
            return mx.hosts().subList(0, MAX_HOSTS);
        }
        return mx.hosts();
    }

    /** RFC 8461 §4.1: every MX host matches a pattern; and a pattern matching none is stale. */
    private static void patterns(Domain d, StsPolicy p, List<String> hosts) {
        for (String h : hosts) {
            if (p.allows(h)) {
                String pattern = p.mx().stream().filter(m -> m.matches(h)).findFirst()
                        .map(MxPattern::toString).orElse("");
                d.add("mx-pattern", h, Level.OK, "matches mx: " + pattern, "", "", h);
            } else {
                // Senders in enforce refuse the host; in testing they report the certificate
                // as not matching the policy.
                d.add("mx-pattern", h, p.mode() == StsPolicy.Mode.NONE ? Level.WARN : Level.FAIL,
                        "matches none of the policy's mx patterns", "add \"mx: " + h + "\" to "
                        + "the policy and bump the id of _mta-sts." + d.name,
                        "certificate-host-mismatch", h);
            }
        }
        for (MxPattern m : p.mx()) {
            if (hosts.stream().noneMatch(m::matches)) {
                d.add("mx-pattern", m.toString(), Level.WARN, "matches no MX host of "
                        + d.name, "remove the stale pattern (and bump the id)", "", "");
            }
        }
    }

    // ---- MX hosts -----------------------------------------------------------------------

    /** What auditing one MX host came to. */
    private record HostAudit(List<Finding> findings, List<DomainAudit.Certificate> certificates,
                             Optional<DomainAudit.TlsaState> tlsa) {
    }

    private HostAudit host(String host, Instant now, boolean sts, boolean mxSecure) {
        List<Finding> findings = new ArrayList<>();
        List<DomainAudit.Certificate> certificates = new ArrayList<>();
        CompletableFuture<DnsResult> tlsaLookup = dns.lookup(name("_25._tcp." + host),
                Type.TLSA);
        DnsResult addresses = join(dns.addresses(name(host)));
        Dnssec tlsaAnswer = Dnssec.of(join(tlsaLookup));
        List<Tlsa> records = new ArrayList<>();
        if (tlsaAnswer instanceof Dnssec.Known k && k.data() instanceof DnsResult.Answer a) {
            for (Record r : a.records()) {
                if (r instanceof TLSARecord t) {
                    try {
                        records.add(Tlsa.of(t));
                    } catch (IllegalArgumentException e) {
                        // data too long to be a record anyone uses: left out
                    }
                }
            }
        }
        // RFC 7672 §2.2: TLSA counts only when it and the MX RRset are DNSSEC-secure.
        boolean dane = mxSecure && tlsaAnswer instanceof Dnssec.Secure
                && records.stream().anyMatch(Tlsa::usable);
        List<Handshake.Secured> served = new ArrayList<>();
        if (!(addresses instanceof DnsResult.Answer answer)) {
            findings.add(new Finding("mx-starttls", host, Level.FAIL, "no address: "
                    + failure(addresses), "publish A (or AAAA) records for " + host, "", host));
        } else {
            List<InetAddress> all = addressesOf(answer);
            List<InetAddress> vetted = vetted(all);
            if (vetted.isEmpty()) {
                findings.add(new Finding("mx-starttls", host, Level.FAIL, "only non-global "
                        + "addresses (" + all.get(0).getHostAddress() + " is "
                        + PublicAddress.whyNot(all.get(0)).orElse("") + "): not probed", "",
                        "", host));
            }
            List<Finding> unreachable = new ArrayList<>();
            for (InetAddress address : vetted.subList(0, Math.min(MAX_ADDRESSES,
                    vetted.size()))) {
                String subject = vetted.size() == 1 ? host
                        : host + " [" + address.getHostAddress() + "]";
                Handshake h = smtp.probe(host, address);
                if (h instanceof Handshake.Unreachable u) {
                    unreachable.add(new Finding("mx-starttls", subject, Level.FAIL,
                            u.reason(), "check that " + host + " accepts SMTP on port 25 from "
                            + "the internet", "", host));
                } else if (h instanceof Handshake.NotOffered n) {
                    findings.add(new Finding("mx-starttls", subject, Level.FAIL, "STARTTLS not "
                            + "offered (EHLO: " + n.ehlo() + ")", "turn on STARTTLS (Postfix: "
                            + "smtpd_tls_security_level = may, smtpd_tls_chain_files)",
                            "starttls-not-supported", host));
                } else if (h instanceof Handshake.Failed f) {
                    findings.add(new Finding("mx-starttls", subject, Level.FAIL, f.reason(),
                            "check the server's TLS configuration and logs",
                            "validation-failure", host));
                } else {
                    Handshake.Secured s = (Handshake.Secured) h;
                    served.add(s);
                    findings.add(new Finding("mx-starttls", subject, Level.OK, s.protocol()
                            + " " + s.cipher(), "", "", host));
                    certificate(findings, certificates, subject, host, s, now, sts, dane,
                            records);
                }
            }
            if (!served.isEmpty()) {
                // Reachable at another address: probably only this host cannot reach that one
                // (an IPv6 address from a host without IPv6), which a sender may well.
                unreachable = unreachable.stream().map(f -> new Finding(f.check(), f.subject(),
                        Level.WARN, f.found() + " (reachable at another address)", f.advice(),
                        "", f.host())).toList();
            }
            findings.addAll(unreachable);
        }
        Optional<DomainAudit.TlsaState> state = tlsa(findings, host, tlsaAnswer, records,
                served, mxSecure);
        return new HostAudit(findings, certificates, state);
    }

    private void certificate(List<Finding> findings, List<DomainAudit.Certificate> certs,
                             String subject, String host, Handshake.Secured s, Instant now,
                             boolean sts, boolean dane, List<Tlsa> records) {
        X509Certificate leaf = s.chain().get(0);
        long days = ServedChain.daysLeft(leaf, now);
        certs.add(new DomainAudit.Certificate(host, "mx", days));
        boolean daneEe = dane && records.stream().anyMatch(t -> t.usable() && t.usage() == 3
                && TlsaMatch.matches(t, s.chain()));
        boolean daneTa = dane && records.stream().anyMatch(t -> t.usable() && t.usage() == 2);
        // Who checks names and dates: MTA-STS senders (RFC 8461 §4.1) and DANE-TA senders;
        // DANE-EE senders check only the key (RFC 7672 §3.1.1); opportunistic ones nothing.
        Level level = sts || daneTa ? Level.FAIL : Level.WARN;
        String note = sts || daneTa ? "" : daneEe
                ? " (DANE-EE senders check only the key, RFC 7672 §3.1.1)"
                : " (only senders that validate notice: this domain has neither MTA-STS nor DANE)";
        if (daneEe && !sts && !daneTa) {
            level = Level.OK;
        }
        List<ServedChain.Problem> problems = judge.judge(s.chain(), host, now);
        for (ServedChain.Problem p : problems) {
            Finding f = new Finding("mx-certificate", subject, level, p.why() + note,
                    p.advice(), p.result(), host);
            findings.add(f);
        }
        if (problems.isEmpty()) {
            findings.add(new Finding("mx-certificate", subject, Level.OK, "names " + host
                    + ", trusted chain of " + s.chain().size() + " from " + leaf
                    .getIssuerX500Principal().getName(), "", "", host));
        }
        expiry("mx-certificate-expiry", subject, host, leaf, days, level,
                "certificate-expired", note, true).ifPresent(findings::add);
    }

    /**
     * The days-to-expiry line: ok (when {@code always}), warn under the thresholds, {@code
     * failing} under the last and once expired; empty when there is nothing to say.
     */
    private Optional<Finding> expiry(String check, String subject, String host,
                                     X509Certificate leaf, long days, Level failing,
                                     String result, String note, boolean always) {
        ServedChain.Thresholds t = settings.expiry();
        String until = leaf.getNotAfter().toInstant().toString().substring(0, 10);
        if (days < 0) {
            return Optional.of(new Finding(check, subject, failing, "expired on " + until + " ("
                    + -days + " days ago)" + note, "renew the certificate now", result, host));
        }
        if (days < t.fail()) {
            return Optional.of(new Finding(check, subject, failing, "expires in " + days
                    + " days (" + until + ")" + note, "renew the certificate now", "", host));
        }
        if (days < t.warn()) {
            boolean urgent = days < t.urgent();
            return Optional.of(new Finding(check, subject, failing == Level.OK ? Level.OK
                    : Level.WARN, "expires in " + days + " days (" + until + ")"
                    + (urgent ? ", soon" : ""), "renew the certificate" + (urgent
                    ? " this week" : ""), "", host));
        }
        return always ? Optional.of(new Finding(check, subject, Level.OK, "expires in " + days
                + " days (" + until + ")", "", "", host)) : Optional.empty();
    }

    /** DANE: which TLSA records match the chains served (RFC 7671 §5, RFC 7672 §3). */
    private static Optional<DomainAudit.TlsaState> tlsa(List<Finding> findings, String host,
                                                        Dnssec answer, List<Tlsa> records,
                                                        List<Handshake.Secured> served,
                                                        boolean mxSecure) {
        String subject = "_25._tcp." + host;
        if (answer instanceof Dnssec.Bogus bogus) {
            findings.add(new Finding("tlsa", subject, Level.FAIL, "DNSSEC-bogus: "
                    + bogus.reason(), "fix the zone's signatures: DANE senders defer all mail "
                    + "to " + host, "dnssec-invalid", host));
            return Optional.of(new DomainAudit.TlsaState(host, false));
        }
        if (answer instanceof Dnssec.Indeterminate failed) {
            findings.add(new Finding("tlsa", subject, Level.FAIL, "lookup failed: "
                    + failed.reason(), "fix the DNS: DANE senders defer mail to " + host
                    + " while they cannot tell", "", host));
            return Optional.empty();
        }
        if (records.isEmpty()) {
            findings.add(new Finding("tlsa", subject, Level.OK, "no TLSA records ("
                    + answer.status() + ")", mxSecure ? "" : "", "", host));
            return Optional.empty();
        }
        String list = records.stream().map(t -> abbreviated(t)).collect(Collectors.joining(
                "; "));
        if (answer instanceof Dnssec.Insecure) {
            // RFC 7672 §2.2: TLSA records not validated by DNSSEC are ignored.
            findings.add(new Finding("tlsa", subject, Level.FAIL, "TLSA records without DNSSEC "
                    + "(" + list + "): senders ignore them", "sign the zone of " + host
                    + ", or remove the records", "", host));
            return Optional.of(new DomainAudit.TlsaState(host, false));
        }
        if (!mxSecure) {
            findings.add(new Finding("tlsa", subject, Level.WARN, "signed TLSA records, but the "
                    + "MX records are not DNSSEC-secure: senders do not use DANE (RFC 7672 "
                    + "§2.2.1)", "sign the zone of the MX records too", "", host));
        }
        List<Tlsa> usable = records.stream().filter(Tlsa::usable).toList();
        for (Tlsa t : records) {
            if (!t.usable()) {
                findings.add(new Finding("tlsa", subject, Level.WARN, abbreviated(t)
                        + " is unusable for SMTP (usage " + t.usage() + "; RFC 7672 §3.1.3: "
                        + "only DANE-TA(2) and DANE-EE(3), known selector and matching type)",
                        "remove it", "", host));
            }
        }
        if (usable.isEmpty()) {
            return Optional.of(new DomainAudit.TlsaState(host, false));
        }
        if (served.isEmpty()) {
            findings.add(new Finding("tlsa", subject, Level.FAIL, "TLSA published (" + list
                    + ") but no TLS chain served to match: DANE senders defer mail", "fix "
                    + "STARTTLS on " + host, "validation-failure", host));
            return Optional.of(new DomainAudit.TlsaState(host, false));
        }
        boolean all = true;
        for (Handshake.Secured s : served) {
            List<Tlsa> matching = usable.stream().filter(t -> TlsaMatch.matches(t, s.chain()))
                    .toList();
            List<Tlsa> other = usable.stream().filter(t -> !matching.contains(t)).toList();
            String key = abbreviated(TlsaMatch.daneEe(s.chain().get(0)));
            if (matching.isEmpty()) {
                all = false;
                findings.add(new Finding("tlsa", subject, Level.FAIL, "no record matches the "
                        + "chain served (records: " + list + "; served key: " + key + ")",
                        "publish \"" + subject + ". IN TLSA " + TlsaMatch.daneEe(s.chain()
                        .get(0)) + "\" (or restore the key the records name)",
                        "tlsa-invalid", host));
            } else if (!other.isEmpty()) {
                findings.add(new Finding("tlsa", subject, Level.OK, "key roll-over: "
                        + matching.stream().map(Auditor::abbreviated).collect(Collectors
                        .joining("; ")) + " matches the chain served, " + other.stream()
                        .map(Auditor::abbreviated).collect(Collectors.joining("; "))
                        + " does not (the next key published ahead, or the old one left "
                        + "behind)", "once the roll-over is done, remove the records that do "
                        + "not match", "", host));
            } else {
                findings.add(new Finding("tlsa", subject, Level.OK, matching.stream()
                        .map(Auditor::abbreviated).collect(Collectors.joining("; "))
                        + " matches the chain served", "", "", host));
            }
        }
        return Optional.of(new DomainAudit.TlsaState(host, all));
    }

    /** {@code 3 1 1 0123456789AB…}: enough of the data to tell records apart. */
    private static String abbreviated(Tlsa t) {
        String data = t.data().length() > 16 ? t.data().substring(0, 16) + "…" : t.data();
        return t.usage() + " " + t.selector() + " " + t.matchingType() + " " + data;
    }

    // ---- TLSRPT -------------------------------------------------------------------------

    private static void tlsrpt(Domain d, DnsResult txt) {
        String subject = "_smtp._tls." + d.name;
        if (!(txt instanceof DnsResult.Data)) {
            d.add("tlsrpt-record", subject, Level.FAIL, "TXT lookup failed: " + failure(txt),
                    "fix the DNS", "", "");
            return;
        }
        List<String> texts = texts(txt);
        long versioned = texts.stream().filter(TlsrptRecord::startsWithVersion).count();
        Optional<TlsrptRecord> record = TlsrptRecord.select(texts);
        if (versioned == 0) {
            d.add("tlsrpt-record", subject, Level.WARN, "no v=TLSRPTv1 record: senders send no "
                    + "reports", "publish \"v=TLSRPTv1; rua=mailto:tlsrpt@" + d.name + "\" and "
                    + "take the reports in with tlsrpt-receiver", "", "");
            return;
        }
        // RFC 8460 §3: records not starting v=TLSRPTv1 are discarded; unless exactly one
        // remains (and it parses), the domain has no TLSRPT.
        if (record.isEmpty()) {
            d.add("tlsrpt-record", subject, Level.FAIL, versioned > 1 ? versioned
                    + " v=TLSRPTv1 records: senders use none" : "invalid: "
                    + texts.stream().filter(TlsrptRecord::startsWithVersion).findFirst()
                    .orElse(""), "publish exactly one \"v=TLSRPTv1; rua=mailto:…\" record",
                    "", "");
            return;
        }
        TlsrptRecord r = record.get();
        for (TlsrptRecord.Refused refused : r.refused()) {
            d.add("tlsrpt-record", subject, Level.WARN, "rua " + refused.text() + " is not "
                    + "usable: " + refused.reason(), "give a mailto: or https: URI", "", "");
        }
        if (r.rua().isEmpty()) {
            d.add("tlsrpt-record", subject, Level.FAIL, "no usable rua URI", "give a mailto: "
                    + "or https: URI", "", "");
            return;
        }
        d.add("tlsrpt-record", subject, Level.OK, "rua " + r.rua().stream()
                .map(ReportDestination::uri).collect(Collectors.joining(", ")), "", "", "");
    }

    // ---- helpers ------------------------------------------------------------------------

    private List<InetAddress> vetted(List<InetAddress> all) {
        return settings.allowPrivate() ? all : all.stream().filter(PublicAddress::is).toList();
    }

    private static List<InetAddress> addressesOf(DnsResult.Answer answer) {
        List<InetAddress> all = new ArrayList<>();
        for (Record r : answer.records()) {
            if (r instanceof ARecord a) {
                all.add(a.getAddress());
            } else if (r instanceof AAAARecord a) {
                all.add(a.getAddress());
            }
        }
        return all;
    }

    private static List<String> texts(DnsResult txt) {
        List<String> texts = new ArrayList<>();
        if (txt instanceof DnsResult.Answer a) {
            for (Record r : a.records()) {
                if (r instanceof TXTRecord t) {
                    texts.add(String.join("", t.getStrings()));
                }
            }
        }
        return texts;
    }

    private static String failure(DnsResult r) {
        if (r instanceof DnsResult.NxDomain) {
            return "no such name";
        }
        if (r instanceof DnsResult.NoData) {
            return "no records";
        }
        return Dnssec.of(r) instanceof Dnssec.Bogus b ? "DNSSEC-bogus: " + b.reason()
                : ((Dnssec.Indeterminate) Dnssec.of(r)).reason();
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

    private String fetcherUri(String domain) {
        return "https://" + PolicyFetcher.host(domain) + PolicyFetcher.PATH;
    }

    /** A policy id from a time: UTC yyyyMMddHHmmss (RFC 8461 §3.1: 1-32 alphanumerics). */
    public static String idOf(Instant t) {
        return java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
                .withZone(java.time.ZoneOffset.UTC).format(t);
    }

    private static Name name(String host) {
        try {
            return Name.fromString(host + ".");
        } catch (TextParseException e) {
            throw new IllegalArgumentException("not a domain name: " + host, e);
        }
    }

    private DnsResult join(CompletableFuture<DnsResult> f) {
        // DNS lookups end on their own (the client's timeout and attempts); the bound is a
        // backstop against a bug, not a limit anyone should reach.
        try {
            return f.orTimeout(settings.timeout().toMillis() * 10, TimeUnit.MILLISECONDS)
                    .join();
        } catch (java.util.concurrent.CompletionException e) {
            return new DnsResult.Timeout("no answer within " + settings.timeout().toMillis()
                    * 10 + " ms");
        }
    }

    @Override
    public void close() {
        domains.shutdownNow();
        hosts.shutdownNow();
    }
}
