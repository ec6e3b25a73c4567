package org.tlspolicy.audit;

import org.tlspolicy.dane.Tlsa;
import org.tlspolicy.dane.TlsaMatch;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.dns.Dnssec;
import org.tlspolicy.outbound.PublicAddress;
import org.xbill.DNS.Record;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.Type;

import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * One MX host as a sending MTA meets it (RFC 7672 §3, RFC 8461 §4): its addresses, STARTTLS
 * on port 25 of each, the chain served (trust, name, dates), and its TLSA records against that
 * chain. Only global addresses are connected to unless {@code allowPrivate}.
 */
final class MxHostAudit {

    /** Addresses of an MX host probed at most (a host's A and AAAA are rarely more). */
    static final int MAX_ADDRESSES = 4;

    private final DnsClient dns;
    private final SmtpStarttls smtp;
    private final ServedChain judge;
    private final Expiry expiry;
    private final boolean allowPrivate;
    private final Duration timeout;

    MxHostAudit(DnsClient dns, SmtpStarttls smtp, ServedChain judge, Expiry expiry,
                boolean allowPrivate, Duration timeout) {
        this.dns = dns;
        this.smtp = smtp;
        this.judge = judge;
        this.expiry = expiry;
        this.allowPrivate = allowPrivate;
        this.timeout = timeout;
    }

    /** What auditing one MX host came to. */
    record Result(List<Finding> findings, List<DomainAudit.Certificate> certificates,
                             Optional<DomainAudit.TlsaState> tlsa) {
    }

    /**
     * Audits MX host {@code host}: addresses, STARTTLS on each (at most {@value
     * #MAX_ADDRESSES}), the chain, its expiry, TLSA. {@code sts}: the domain publishes
     * MTA-STS (so names and dates fail); {@code mxSecure}: its MX RRset is DNSSEC-secure.
     */
    Result audit(String host, Instant now, boolean sts, boolean mxSecure) {
        List<Finding> findings = new ArrayList<>();
        List<DomainAudit.Certificate> certificates = new ArrayList<>();
        CompletableFuture<DnsResult> tlsaLookup = dns.lookup(AuditDns.name("_25._tcp." + host),
                Type.TLSA);
        DnsResult addresses = AuditDns.join(dns.addresses(AuditDns.name(host)), timeout);
        Dnssec tlsaAnswer = Dnssec.of(AuditDns.join(tlsaLookup, timeout));
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
                    + AuditDns.failure(addresses), "publish A (or AAAA) records for " + host, "", host));
        } else {
            List<InetAddress> all = AuditDns.addresses(answer);
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
        return new Result(findings, certificates, state);
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
        expiry.line("mx-certificate-expiry", subject, host, leaf, days, level,
                "certificate-expired", note, true).ifPresent(findings::add);
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
                        + matching.stream().map(MxHostAudit::abbreviated).collect(Collectors
                        .joining("; ")) + " matches the chain served, " + other.stream()
                        .map(MxHostAudit::abbreviated).collect(Collectors.joining("; "))
                        + " does not (the next key published ahead, or the old one left "
                        + "behind)", "once the roll-over is done, remove the records that do "
                        + "not match", "", host));
            } else {
                findings.add(new Finding("tlsa", subject, Level.OK, matching.stream()
                        .map(MxHostAudit::abbreviated).collect(Collectors.joining("; "))
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

    private List<InetAddress> vetted(List<InetAddress> all) {
        return allowPrivate ? all : all.stream().filter(PublicAddress::is).toList();
    }
}
