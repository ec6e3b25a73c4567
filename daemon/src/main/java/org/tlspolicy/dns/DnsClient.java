package org.tlspolicy.dns;

import org.tlspolicy.outbound.SocketBudget;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * Asynchronous DNS lookups through configured recursive resolvers, with results as {@link
 * DnsResult} values.
 *
 * <p>dnsjava's {@link ExtendedResolver} does the transport: it tries each server in turn with
 * the given timeout and number of attempts, and repeats a query over TCP when a UDP response is
 * truncated (RFC 1035 §4.2.1, RFC 7766). This class adds what a policy lookup needs on top: the
 * AD bit requested and reported (RFC 6840 §5.7), and CNAME chains followed (RFC 1034 §3.6.2)
 * across responses, at most {@link #MAX_CNAME_HOPS} links, loops detected.
 */
public final class DnsClient {

    /** Longer chains are treated as a failure; real ones are one or two links. */
    public static final int MAX_CNAME_HOPS = 8;

    /** How late dnsjava's NIO client may notice that an attempt timed out. */
    private static final Duration SELECTOR_TICK = Duration.ofSeconds(1);

    private final Resolver resolver;
    /** The servers without validation (the same as {@code resolver} when not validating). */
    private final Resolver upstream;
    /** The servers and where they came from, for the words of failures. */
    private final DnsServers servers;

    /**
     * @param servers  recursive resolvers, tried in this order (recent failures last)
     * @param timeout  per attempt; a lookup takes at most (timeout + 1 s) × attempts × servers
     * @param attempts per server, at least 1
     */
    public DnsClient(List<InetSocketAddress> servers, Duration timeout, int attempts) {
        this(servers, timeout, attempts, Optional.empty());
    }

    /**
     * A client that validates DNSSEC itself (dnsjava's {@link ValidatingResolver}) from the
     * trust anchors given as DS or DNSKEY records in master file format: answers carry
     * {@code authenticated} when validated as secure, and validation failures become {@link
     * DnsResult.Bogus}. The servers must pass DNSSEC records through (DO bit); the AD bit
     * they set is ignored.
     */
    public DnsClient(List<InetSocketAddress> servers, Duration timeout, int attempts,
                     Optional<String> trustAnchors) {
        this(servers, timeout, attempts, trustAnchors, SocketBudget.unlimited("dns"));
    }

    /**
     * As {@link #DnsClient(List, Duration, int, Optional)}, with every query (the validator's
     * own included) holding a socket of {@code sockets} while it is on the wire.
     */
    public DnsClient(List<InetSocketAddress> servers, Duration timeout, int attempts,
                     Optional<String> trustAnchors, SocketBudget sockets) {
        this(new DnsServers(servers, "dns.servers"), timeout, attempts, trustAnchors, sockets);
    }

    /**
     * As {@link #DnsClient(List, Duration, int, Optional, SocketBudget)}, the servers with
     * where they came from.
     */
    public DnsClient(DnsServers serverList, Duration timeout, int attempts,
                     Optional<String> trustAnchors, SocketBudget sockets) {
        this.servers = serverList;
        List<InetSocketAddress> servers = serverList.addresses();
        // addResolver keeps the configured order; ExtendedResolver's collection constructors
        // put the resolvers in a set. Without load balancing, servers are tried in that order,
        // those that failed recently last.
        ExtendedResolver extended = new ExtendedResolver(List.<Resolver>of());
        for (InetSocketAddress server : servers) {
            SimpleResolver r = new SimpleResolver(server);
            r.setTimeout(timeout);
            // Each attempt holds a permit, not each query: an attempt that timed out hands its
            // socket's place to the next only once that socket is closed (BudgetedResolver).
            extended.addResolver(new BudgetedResolver(r, sockets));
        }
        extended.setLoadBalance(false);
        // EDNS (RFC 6891) so that a validating resolver can say why it failed (RFC 8914).
        extended.setEDNS(0, 1232, 0, List.of());
        extended.setRetries(attempts);
        // ExtendedResolver's timeout is a deadline for the whole query, checked when an attempt
        // fails; dnsjava's NIO client notices an attempt's timeout only on its selector's
        // one-second tick. Without that slack per attempt, a dead first server would use up
        // the deadline and the others would never be asked.
        extended.setTimeout(timeout.plus(SELECTOR_TICK)
                .multipliedBy((long) attempts * Math.max(1, servers.size())));
        Resolver budgeted = extended;
        if (trustAnchors.isPresent()) {
            ValidatingResolver validating = new ValidatingResolver(budgeted);
            try {
                validating.loadTrustAnchors(new ByteArrayInputStream(
                        trustAnchors.get().getBytes(StandardCharsets.US_ASCII)));
            } catch (IOException e) {
                throw new IllegalArgumentException("trust anchors: " + e.getMessage(), e);
            }
            this.resolver = validating;
        } else {
            this.resolver = budgeted;
        }
        this.upstream = budgeted;
    }

    /** The servers asked, and where they came from. */
    public DnsServers servers() {
        return servers;
    }

    /** Looks up {@code type} records of {@code name}, following CNAMEs. */
    public CompletableFuture<DnsResult> lookup(Name name, int type) {
        return lookup(name, type, new HashSet<>(), 0);
    }

    /**
     * The IPv4 and IPv6 addresses of {@code host}: its A and AAAA lookups sent at once and
     * merged, A records first. An answer to either is an answer; NXDOMAIN or no data only when
     * both say so; otherwise the first failure. Authenticated only when both parts are.
     */
    public CompletableFuture<DnsResult> addresses(Name host) {
        CompletableFuture<DnsResult> a = lookup(host, Type.A);
        CompletableFuture<DnsResult> aaaa = lookup(host, Type.AAAA);
        return a.thenCombine(aaaa, DnsClient::merge);
    }

    private static DnsResult merge(DnsResult v4, DnsResult v6) {
        List<Record> records = new ArrayList<>();
        boolean authenticated = true;
        for (DnsResult r : List.of(v4, v6)) {
            if (r instanceof DnsResult.Answer answer) {
                records.addAll(answer.records());
                authenticated &= answer.authenticated();
            }
        }
        if (!records.isEmpty()) {
            return new DnsResult.Answer(records, authenticated);
        }
        for (DnsResult r : List.of(v4, v6)) {
            if (r instanceof DnsResult.Bogus) {
                return r; // a forged part taints the whole
            }
        }
        if (v4 instanceof DnsResult.Failure || v4 instanceof DnsResult.Timeout) {
            return v4;
        }
        if (v6 instanceof DnsResult.Failure || v6 instanceof DnsResult.Timeout) {
            return v6;
        }
        return v4 instanceof DnsResult.NxDomain || v6 instanceof DnsResult.NxDomain
                ? new DnsResult.NxDomain(authenticated(v4) && authenticated(v6))
                : new DnsResult.NoData(authenticated(v4) && authenticated(v6));
    }

    private static boolean authenticated(DnsResult r) {
        return r instanceof DnsResult.NoData n ? n.authenticated()
                : r instanceof DnsResult.NxDomain x && x.authenticated();
    }

    private CompletableFuture<DnsResult> lookup(Name name, int type, Set<Name> seen, int hops) {
        Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        query.getHeader().setFlag(Flags.AD); // RFC 6840 §5.7: ask for the AD bit
        return resolver.sendAsync(query, BudgetedResolver.COMPLETIONS).toCompletableFuture()
                .thenCompose(response -> interpret(name, type, response, seen, hops))
                .exceptionally(this::transportFailure);
    }

    private CompletableFuture<DnsResult> interpret(Name name, int type, Message response,
                                                   Set<Name> seen, int hops) {
        boolean ad = response.getHeader().getFlag(Flags.AD);
        int rcode = response.getRcode();
        if (rcode == Rcode.NXDOMAIN) {
            return done(new DnsResult.NxDomain(ad, negativeTtl(response)));
        }
        if (rcode == Rcode.SERVFAIL) {
            String bogus = bogusReason(response);
            if (bogus != null) {
                DnsResult.Bogus result = new DnsResult.Bogus(name + " " + Type.string(type)
                        + ": " + bogus);
                return resolver == upstream ? done(result) : upstreamFailure(name, type, result);
            }
        }
        if (rcode != Rcode.NOERROR) {
            return done(failure(name, type, response));
        }
        // Walk the chain inside this response: name -> CNAME target -> ... -> records.
        Name current = name;
        seen.add(current);
        while (true) {
            List<Record> records = new ArrayList<>();
            Name next = null;
            for (Record r : response.getSection(Section.ANSWER)) {
                if (!r.getName().equals(current)) {
                    continue;
                }
                if (r.getType() == type) {
                    records.add(r);
                } else if (r.getType() == Type.CNAME && type != Type.CNAME) {
                    next = ((CNAMERecord) r).getTarget();
                }
            }
            if (!records.isEmpty()) {
                return done(new DnsResult.Answer(records, ad));
            }
            if (next == null) {
                return done(new DnsResult.NoData(ad, negativeTtl(response)));
            }
            if (!seen.add(next)) {
                return done(new DnsResult.Failure("CNAME loop at " + next));
            }
            if (++hops > MAX_CNAME_HOPS) {
                return done(new DnsResult.Failure("CNAME chain longer than " + MAX_CNAME_HOPS));
            }
            if (!containsOwner(response, next)) {
                // The target's records were not in this response: ask for them.
                return lookup(next, type, seen, hops).thenApply(r -> andAuthenticated(r, ad));
            }
            current = next;
        }
    }

    /**
     * Why a SERVFAIL is a validation failure, or null if it is not one (then it is an outage):
     * an Extended DNS Error of the DNSSEC kind (RFC 8914 §4.7-4.13: bogus, signature expired or
     * not yet valid, DNSKEY, RRSIG or NSEC missing, no zone key bit), from unbound with {@code
     * ede: yes} or from dnsjava's validator, which also says why in a reason record. A SERVFAIL
     * passed on from upstream gets no such code from dnsjava (or DNSSEC Indeterminate).
     */
    private String bogusReason(Message response) {
        for (ExtendedErrorCodeOption ede : extendedErrors(response)) {
            int code = ede.getErrorCode();
            if (code >= ExtendedErrorCodeOption.DNSSEC_BOGUS
                    && code <= ExtendedErrorCodeOption.NSEC_MISSING) {
                if (resolver instanceof ValidatingResolver) {
                    // dnsjava's own reason is more precise than its EDE text.
                    for (Record r : response.getSection(Section.ADDITIONAL)) {
                        if (r.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS
                                && r instanceof TXTRecord reason) {
                            return String.join("", reason.getStrings());
                        }
                    }
                }
                return describe(ede);
            }
        }
        return null;
    }

    /**
     * dnsjava's validator also calls a SERVFAIL from the servers bogus: asks them again with
     * checking disabled (RFC 4035 §3.2.2), and if they still fail, it is an outage, not a
     * forgery. Only on this failure path, so it costs nothing otherwise.
     */
    private CompletableFuture<DnsResult> upstreamFailure(Name name, int type,
                                                         DnsResult.Bogus bogus) {
        Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        query.getHeader().setFlag(Flags.CD);
        return upstream.sendAsync(query, BudgetedResolver.COMPLETIONS).toCompletableFuture()
                .thenApply(response -> {
                    int rcode = response.getRcode();
                    return rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN ? (DnsResult) bogus
                            : failure(name, type, response);
                })
                .exceptionally(this::transportFailure);
    }

    /**
     * An answer that is no answer. A SERVFAIL that is no validation failure means the resolver
     * could not get an answer itself (offline, or its upstream broken): say which resolver was
     * asked, whence it came, and that, rather than advise another resolver.
     */
    private DnsResult.Failure failure(Name name, int type, Message response) {
        int rcode = response.getRcode();
        return new DnsResult.Failure("rcode " + Rcode.string(rcode) + " for " + name + " "
                + Type.string(type) + extendedError(response) + " from " + servers
                + (rcode == Rcode.SERVFAIL ? ": the resolver failed to get an answer itself "
                + "(is it offline, or its own upstream broken?)" : ""));
    }

    private static String extendedError(Message response) {
        StringBuilder b = new StringBuilder();
        for (ExtendedErrorCodeOption ede : extendedErrors(response)) {
            b.append(" (").append(describe(ede)).append(')');
        }
        return b.toString();
    }

    private static String describe(ExtendedErrorCodeOption ede) {
        String text = ede.getText();
        return "EDE " + ede.getErrorCode() + " " + ExtendedErrorCodeOption.text(ede.getErrorCode())
                + (text == null || text.isEmpty() ? "" : ": " + text);
    }

    private static List<ExtendedErrorCodeOption> extendedErrors(Message response) {
        OPTRecord opt = response.getOPT();
        List<ExtendedErrorCodeOption> out = new ArrayList<>();
        if (opt != null) {
            for (EDNSOption o : opt.getOptions(EDNSOption.Code.EDNS_EXTENDED_ERROR)) {
                if (o instanceof ExtendedErrorCodeOption ede) {
                    out.add(ede);
                }
            }
        }
        return out;
    }

    /** RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM); 0 if no SOA. */
    private static long negativeTtl(Message response) {
        for (Record r : response.getSection(Section.AUTHORITY)) {
            if (r instanceof SOARecord soa) {
                return Math.min(soa.getTTL(), soa.getMinimum());
            }
        }
        return 0;
    }

    private static boolean containsOwner(Message response, Name owner) {
        for (Record r : response.getSection(Section.ANSWER)) {
            if (r.getName().equals(owner)) {
                return true;
            }
        }
        return false;
    }

    /** A chain is only as authenticated as its least authenticated link. */
    private static DnsResult andAuthenticated(DnsResult result, boolean ad) {
        if (ad) {
            return result;
        }
        if (result instanceof DnsResult.Answer a) {
            return new DnsResult.Answer(a.records(), false);
        }
        if (result instanceof DnsResult.NoData n) {
            return new DnsResult.NoData(false, n.ttl());
        }
        if (result instanceof DnsResult.NxDomain x) {
            return new DnsResult.NxDomain(false, x.ttl());
        }
        return result;
    }

    private DnsResult transportFailure(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null
                ? t.getCause() : t;
        if (isTimeout(cause)) {
            return new DnsResult.Timeout("no answer from " + servers + ": "
                    + cause.getMessage());
        }
        if (cause instanceof PortUnreachableException) {
            return new DnsResult.Failure("no DNS server listening at " + servers
                    + " (ICMP port unreachable)");
        }
        if (cause instanceof IOException) {
            // The operator's words: "Network is unreachable", not the exception's class.
            return new DnsResult.Failure("transport: " + (cause.getMessage() == null
                    ? "I/O error" : cause.getMessage()) + " (asking " + servers + ")");
        }
        return new DnsResult.Failure("unexpected: " + cause);
    }

    /**
     * dnsjava's ExtendedResolver reports that every attempt timed out as a plain IOException
     * ("Timed out while trying to resolve ..."), so its wording is the signal besides the
     * timeout exception types.
     */
    private static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof SocketTimeoutException
                    || (c instanceof IOException && c.getMessage() != null
                    && c.getMessage().startsWith("Timed out"))) {
                return true;
            }
        }
        return false;
    }

    private static CompletableFuture<DnsResult> done(DnsResult r) {
        return CompletableFuture.completedFuture(r);
    }
}
