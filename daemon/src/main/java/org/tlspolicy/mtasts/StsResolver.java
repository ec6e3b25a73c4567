package org.tlspolicy.mtasts;

import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.outbound.ResolutionRate;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Resolves a domain's MTA-STS state from the network, without any cache: the TXT record at
 * {@code _mta-sts.DOMAIN} (RFC 8461 §3.1) and, if it announces a policy, the policy over HTTPS
 * (§3.3), parsed (§3.2). Domains without MTA-STS, the vast majority, never cost an HTTPS
 * connection.
 */
public final class StsResolver {

    private final DnsClient dns;
    private final PolicyFetcher fetcher;
    private final ResolutionRate rate;

    public StsResolver(DnsClient dns, PolicyFetcher fetcher) {
        this(dns, fetcher, ResolutionRate.unlimited());
    }

    /** A resolver whose resolutions (and TXT checks) start at most at {@code rate}. */
    public StsResolver(DnsClient dns, PolicyFetcher fetcher, ResolutionRate rate) {
        this.dns = dns;
        this.fetcher = fetcher;
        this.rate = rate;
    }

    /**
     * The TXT lookup alone: which policy id, if any, the domain announces now (a check of a
     * cached policy: a refresh, bounded by the cache, so not in turn with the resolutions of
     * {@link ResolutionRate}).
     */
    public CompletableFuture<Discovery> discover(String domain) {
        return discoverNow(domain);
    }

    private CompletableFuture<Discovery> discoverNow(String domain) {
        long start = System.nanoTime();
        Name name;
        try {
            name = Name.fromString("_mta-sts." + domain + ".");
        } catch (TextParseException e) {
            return CompletableFuture.completedFuture(
                    new Discovery(null, List.of(), "not a DNS name: " + domain, false,
                            elapsed(start)));
        }
        return dns.lookup(name, Type.TXT).thenApply(result -> discovery(result, start));
    }

    /**
     * What the TXT records say. {@code record} is set when exactly one valid STSv1 record was
     * found; otherwise {@code reason} says why not and {@code failed} whether DNS failed (so the
     * answer is unknown) rather than said no. {@code texts} are the TXT records as received.
     */
    public record Discovery(StsRecord record, List<String> texts, String reason, boolean failed,
                            Duration elapsed) {
        public Discovery {
            texts = List.copyOf(texts);
        }
    }

    private static Discovery discovery(DnsResult result, long start) {
        Duration t = elapsed(start);
        if (result instanceof DnsResult.Answer answer) {
            List<String> texts = new ArrayList<>();
            for (var r : answer.records()) {
                // RFC 8461 §3.1: the strings of one TXT record are concatenated.
                texts.add(String.join("", ((TXTRecord) r).getStrings()));
            }
            StsRecord.Discovery d = StsRecord.discover(texts);
            if (d instanceof StsRecord.Discovery.Published p) {
                return new Discovery(p.record(), texts, "", false, t);
            }
            if (d instanceof StsRecord.Discovery.Invalid invalid) {
                return new Discovery(null, texts, "TXT record invalid: " + invalid.reason(), false,
                        t);
            }
            return new Discovery(null, texts, "no STSv1 TXT record", false, t);
        }
        if (result instanceof DnsResult.NoData) {
            return new Discovery(null, List.of(), "no TXT record", false, t);
        }
        if (result instanceof DnsResult.NxDomain) {
            return new Discovery(null, List.of(), "no _mta-sts name", false, t);
        }
        if (result instanceof DnsResult.Failure f) {
            return new Discovery(null, List.of(), "TXT lookup failed: " + f.reason(), true, t);
        }
        if (result instanceof DnsResult.Bogus b) {
            return new Discovery(null, List.of(), "TXT lookup DNSSEC-bogus: " + b.reason(), true,
                    t);
        }
        DnsResult.Timeout timeout = (DnsResult.Timeout) result;
        return new Discovery(null, List.of(), "TXT lookup timed out: " + timeout.reason(), true, t);
    }

    /**
     * The policy host's addresses, looked up through the configured DNS servers (A and AAAA at
     * once). {@code addresses} is empty when there are none; then {@code problem} says why.
     */
    public record PolicyHost(List<InetAddress> addresses, String problem, Duration elapsed) {
        public PolicyHost {
            addresses = List.copyOf(addresses);
        }
    }

    /** Looks up the addresses of {@code mta-sts.DOMAIN}; never completes exceptionally. */
    public CompletableFuture<PolicyHost> policyHost(String domain) {
        long start = System.nanoTime();
        String host = PolicyFetcher.host(domain);
        Name name;
        try {
            name = Name.fromString(host + ".");
        } catch (TextParseException e) {
            return CompletableFuture.completedFuture(
                    new PolicyHost(List.of(), "not a DNS name: " + host, elapsed(start)));
        }
        return dns.addresses(name).thenApply(result -> policyHost(host, result, start));
    }

    private static PolicyHost policyHost(String host, DnsResult result, long start) {
        Duration t = elapsed(start);
        if (result instanceof DnsResult.Answer answer) {
            List<InetAddress> addresses = new ArrayList<>();
            for (var r : answer.records()) {
                InetAddress named = r instanceof ARecord a ? a.getAddress()
                        : ((AAAARecord) r).getAddress();
                try {
                    // Without the name, so that failures name the address alone.
                    addresses.add(InetAddress.getByAddress(named.getAddress()));
                } catch (UnknownHostException e) {
                    throw new AssertionError(e); // only for a wrong length, which DNS cannot give
                }
            }
            return new PolicyHost(addresses, "", t);
        }
        String problem = result instanceof DnsResult.NxDomain ? "NXDOMAIN"
                : result instanceof DnsResult.NoData ? "no A or AAAA record"
                : result instanceof DnsResult.Failure f ? f.reason()
                : result instanceof DnsResult.Bogus b ? "DNSSEC-bogus: " + b.reason()
                : ((DnsResult.Timeout) result).reason();
        return new PolicyHost(List.of(), "address lookup of " + host + ": " + problem, t);
    }

    /**
     * Fetches and parses the policy the TXT record {@code record} announced, from the addresses
     * {@code host} gives (a lookup that may still be under way).
     */
    public CompletableFuture<StsLookup> fetch(String domain, StsRecord record, Duration txtTime,
                                             CompletableFuture<PolicyHost> host) {
        return host.thenCompose(h -> {
            if (h.addresses().isEmpty()) {
                StsLookup.Timings timings = new StsLookup.Timings(txtTime, h.elapsed(),
                        Duration.ZERO, PolicyFetch.Phases.NONE);
                return CompletableFuture.completedFuture(new StsLookup.Failed(record,
                        StsFailure.FETCH_ERROR, h.problem(), timings));
            }
            return fetcher.fetch(domain, h.addresses()).thenApply(fetch -> {
                StsLookup.Timings timings = new StsLookup.Timings(txtTime, h.elapsed(),
                        fetch.elapsed(), fetch.phases());
                if (fetch instanceof PolicyFetch.Failed f) {
                    return new StsLookup.Failed(record, f.failure(), f.reason(), timings);
                }
                String body = ((PolicyFetch.Fetched) fetch).body();
                StsPolicy.Parse parse = StsPolicy.parse(body);
                if (parse instanceof StsPolicy.Parse.Invalid invalid) {
                    return new StsLookup.Failed(record, StsFailure.POLICY_INVALID,
                            "policy invalid: " + invalid.reason(), timings);
                }
                return new StsLookup.Found(record, ((StsPolicy.Parse.Valid) parse).policy(), body,
                        timings);
            });
        });
    }

    /** Fetches the announced policy, looking up the policy host's addresses first. */
    public CompletableFuture<StsLookup> fetch(String domain, StsRecord record, Duration txtTime) {
        return fetch(domain, record, txtTime, policyHost(domain));
    }

    /**
     * The TXT lookup and, if it announces a policy, the fetch. The policy host's address lookup
     * is sent together with the TXT query, not after it: a cold lookup of an MTA-STS domain
     * then costs one DNS round trip instead of two, for two more queries (A, AAAA) on domains
     * without MTA-STS, which the resolver answers from its cache or with NXDOMAIN. Never
     * completes exceptionally.
     */
    public CompletableFuture<StsLookup> resolve(String domain) {
        return resolve(domain, false);
    }

    /**
     * As {@link #resolve(String)}; a {@code background} one (replacing a stale answer, bounded
     * by the cache) does not wait for a turn.
     */
    public CompletableFuture<StsLookup> resolve(String domain, boolean background) {
        return background ? resolveNow(domain)
                : rate.acquire(domain).thenCompose(go -> resolveNow(domain));
    }

    private CompletableFuture<StsLookup> resolveNow(String domain) {
        CompletableFuture<PolicyHost> host = policyHost(domain);
        return discoverNow(domain).thenCompose(d -> {
            if (d.record() != null) {
                return fetch(domain, d.record(), d.elapsed(), host);
            }
            StsLookup.Timings txtOnly = new StsLookup.Timings(d.elapsed(), Duration.ZERO,
                    Duration.ZERO, PolicyFetch.Phases.NONE);
            return CompletableFuture.completedFuture(d.failed()
                    ? new StsLookup.Unavailable(d.reason(), txtOnly)
                    : new StsLookup.Absent(d.reason(), txtOnly));
        });
    }

    private static Duration elapsed(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
