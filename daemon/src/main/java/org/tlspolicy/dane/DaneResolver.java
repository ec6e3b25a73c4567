package org.tlspolicy.dane;

import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.dns.Dnssec;
import org.tlspolicy.outbound.ResolutionRate;
import org.xbill.DNS.Name;
import org.xbill.DNS.NameTooLongException;
import org.xbill.DNS.Record;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Finds out from DNSSEC-validated DNS whether DANE applies to a domain (RFC 7672 §2.2): its MX
 * RRset, then for every MX host at once its addresses and TLSA records. The {@link DnsClient}
 * decides what "secure" means: its own validation, or a trusted resolver's AD bit.
 *
 * <p>Never completes exceptionally: every DNS outcome, bogus and indeterminate included, is a
 * {@link DaneLookup}.
 */
public final class DaneResolver {

    /** RFC 7672 §2.2.3: TLSA records of SMTP servers are looked up for port 25 over TCP. */
    private static final Name TLSA_PREFIX = Name.fromConstantString("_25._tcp");

    /** More MX hosts than this are not looked at: Postfix itself tries only a few per delivery. */
    public static final int MAX_HOSTS = 16;

    private final DnsClient dns;
    private final ResolutionRate rate;

    public DaneResolver(DnsClient dns) {
        this(dns, ResolutionRate.unlimited());
    }

    /** A resolver whose resolutions start at most at {@code rate}. */
    public DaneResolver(DnsClient dns, ResolutionRate rate) {
        this.dns = dns;
        this.rate = rate;
    }

    /** The DANE status of mail to {@code domain} (in turn, see {@link ResolutionRate}). */
    public CompletableFuture<DaneLookup> resolve(String domain) {
        return resolve(domain, false);
    }

    /**
     * As {@link #resolve(String)}; a {@code background} one (a refresh, bounded by its cache)
     * does not wait for a turn.
     */
    public CompletableFuture<DaneLookup> resolve(String domain, boolean background) {
        return background ? resolveNow(domain)
                : rate.acquire(domain).thenCompose(go -> resolveNow(domain));
    }

    private CompletableFuture<DaneLookup> resolveNow(String domain) {
        Name name;
        try {
            name = Name.fromString(domain, Name.root);
        } catch (TextParseException e) {
            return CompletableFuture.completedFuture(new DaneLookup.NotApplicable(
                    "not a DNS name", "none", List.of(), 0));
        }
        return dns.lookup(name, Type.MX).thenCompose(result -> afterMx(domain, result));
    }

    private CompletableFuture<DaneLookup> afterMx(String domain, DnsResult result) {
        Dnssec mx = Dnssec.of(result);
        if (mx instanceof Dnssec.Bogus b) {
            return done(new DaneLookup.Failed("MX bogus: " + b.reason(), true, mx.status(),
                    List.of()));
        }
        if (mx instanceof Dnssec.Indeterminate i) {
            return done(new DaneLookup.Failed("MX lookup failed: " + i.reason(), false,
                    mx.status(), List.of()));
        }
        DnsResult.Data data = ((Dnssec.Known) mx).data();
        MxHosts hosts;
        if (data instanceof DnsResult.Answer answer) {
            hosts = MxHosts.of(answer.records());
            if (hosts.nullMx()) {
                // RFC 7505 §4.1: no delivery is attempted, so no policy matters.
                return done(new DaneLookup.NullMx(mx.status(), data.ttl()));
            }
        } else if (data instanceof DnsResult.NoData) {
            // RFC 5321 §5.1, RFC 7672 §2.2.2: no MX records, the domain itself is the host.
            hosts = new MxHosts(List.of(domain), false);
        } else {
            return done(new DaneLookup.NotApplicable("domain does not exist (" + mx.status()
                    + " NXDOMAIN)", mx.status(), List.of(), data.ttl()));
        }
        if (mx instanceof Dnssec.Insecure) {
            // RFC 7672 §2.2.1: MX hosts from an insecure RRset could be an attacker's.
            return done(new DaneLookup.NotApplicable("MX records insecure", mx.status(),
                    List.of(), data.ttl()));
        }
        List<String> names = hosts.hosts().subList(0, Math.min(MAX_HOSTS, hosts.hosts().size()));
        List<CompletableFuture<Found>> perHost = new ArrayList<>();
        for (String host : names) {
            perHost.add(host(host));
        }
        return CompletableFuture.allOf(perHost.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> decide(mx.status(), data.ttl(),
                        perHost.stream().map(CompletableFuture::join).toList()));
    }

    /**
     * A host's outcome with the least TTL of the answers it rests on; {@code secureAbsent} when
     * the TLSA lookup proved there are none (then the next name may be tried).
     */
    private record Found(HostTlsa host, long ttl, boolean secureAbsent) {
        Found(HostTlsa host, long ttl) {
            this(host, ttl, false);
        }
    }

    private static DaneLookup decide(String mx, long mxTtl, List<Found> found) {
        List<HostTlsa> hosts = found.stream().map(Found::host).toList();
        long ttl = mxTtl;
        for (Found f : found) {
            ttl = Math.min(ttl, f.ttl());
        }
        for (HostTlsa h : hosts) {
            if (h.status().failed()) {
                boolean bogus = hosts.stream().anyMatch(x -> x.status() == HostTlsa.Status.BOGUS);
                return new DaneLookup.Failed(h.host() + ": " + h.detail(), bogus, mx, hosts);
            }
        }
        if (hosts.stream().anyMatch(h -> h.status() == HostTlsa.Status.USABLE)) {
            return new DaneLookup.Applies(mx, hosts, ttl);
        }
        boolean unusable = hosts.stream().anyMatch(h -> h.status() == HostTlsa.Status.UNUSABLE);
        return new DaneLookup.NotApplicable(unusable ? "TLSA records unusable for SMTP"
                : "no MX host has secure TLSA records", mx, hosts, ttl);
    }

    /**
     * RFC 7672 §2.2.3: TLSA records count only for a host whose addresses are secure; they are
     * sought at the fully CNAME-expanded name first, then at the name the MX record gave.
     */
    private CompletableFuture<Found> host(String host) {
        Name name;
        try {
            name = Name.fromString(host, Name.root);
        } catch (TextParseException e) {
            return CompletableFuture.completedFuture(new Found(new HostTlsa(host,
                    HostTlsa.Status.NONE, "", List.of(), "not a DNS name"), Long.MAX_VALUE));
        }
        CompletableFuture<DnsResult> a = dns.lookup(name, Type.A);
        CompletableFuture<DnsResult> aaaa = dns.lookup(name, Type.AAAA);
        return a.thenCombine(aaaa, (v4, v6) -> new Dnssec[] {Dnssec.of(v4), Dnssec.of(v6)})
                .thenCompose(addresses -> afterAddresses(host, name, addresses));
    }

    private CompletableFuture<Found> afterAddresses(String host, Name name, Dnssec[] addresses) {
        long ttl = Long.MAX_VALUE;
        boolean any = false;
        boolean secure = true;
        Name expanded = name;
        for (Dnssec d : addresses) {
            if (d instanceof Dnssec.Bogus b) {
                return found(host, HostTlsa.Status.BOGUS, "addresses bogus: " + b.reason(), 0);
            }
            if (d instanceof Dnssec.Indeterminate i) {
                return found(host, HostTlsa.Status.INDETERMINATE, "address lookup failed: "
                        + i.reason(), 0);
            }
            DnsResult.Data data = ((Dnssec.Known) d).data();
            ttl = Math.min(ttl, data.ttl());
            if (data instanceof DnsResult.Answer answer) {
                any = true;
                secure &= d instanceof Dnssec.Secure;
                expanded = answer.records().get(0).getName();
            }
        }
        if (!any) {
            return found(host, HostTlsa.Status.NONE, "no addresses", ttl);
        }
        if (!secure) {
            return found(host, HostTlsa.Status.NONE, "addresses insecure", ttl);
        }
        if (!expanded.equals(name)) {
            return tlsa(host, expanded, ttl).thenCompose(f ->
                    f.secureAbsent() ? tlsa(host, name, f.ttl()) : done(f));
        }
        return tlsa(host, name, ttl);
    }

    private CompletableFuture<Found> tlsa(String host, Name at, long ttl) {
        Name owner;
        try {
            owner = Name.concatenate(TLSA_PREFIX, at);
        } catch (NameTooLongException e) {
            return found(host, HostTlsa.Status.NONE, "TLSA name too long", ttl);
        }
        String base = MxHosts.name(owner);
        return dns.lookup(owner, Type.TLSA).thenApply(result -> {
            Dnssec d = Dnssec.of(result);
            if (d instanceof Dnssec.Bogus b) {
                return new Found(new HostTlsa(host, HostTlsa.Status.BOGUS, "", List.of(),
                        "TLSA " + base + " bogus: " + b.reason()), 0);
            }
            if (d instanceof Dnssec.Indeterminate i) {
                return new Found(new HostTlsa(host, HostTlsa.Status.INDETERMINATE, "", List.of(),
                        "TLSA " + base + " lookup failed: " + i.reason()), 0);
            }
            DnsResult.Data data = ((Dnssec.Known) d).data();
            long t = Math.min(ttl, data.ttl());
            if (d instanceof Dnssec.Insecure) {
                return new Found(new HostTlsa(host, HostTlsa.Status.NONE, "", List.of(),
                        "TLSA insecure at " + base), t);
            }
            if (!(data instanceof DnsResult.Answer answer)) {
                return new Found(new HostTlsa(host, HostTlsa.Status.NONE, "", List.of(),
                        "no TLSA at " + base + " (secure)"), t, true);
            }
            List<Tlsa> records = new ArrayList<>();
            for (Record r : answer.records()) {
                if (r instanceof TLSARecord tlsa) {
                    try {
                        records.add(Tlsa.of(tlsa));
                    } catch (IllegalArgumentException malformed) {
                        // empty or oversized data: cannot match anything, so not kept
                    }
                }
            }
            // Sorted: DNS gives an RRset in any order, replies should not change with it.
            records.sort(Comparator.comparing(Tlsa::toString));
            boolean usable = records.stream().anyMatch(Tlsa::usable);
            return new Found(new HostTlsa(host, usable ? HostTlsa.Status.USABLE
                    : HostTlsa.Status.UNUSABLE, base, records, "addresses secure, TLSA secure"),
                    t);
        });
    }

    private static CompletableFuture<Found> found(String host, HostTlsa.Status status,
                                                  String detail, long ttl) {
        return done(new Found(new HostTlsa(host, status, "", List.of(), detail), ttl));
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
