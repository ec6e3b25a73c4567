package org.tlspolicy.dns;

import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
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
        // addResolver keeps the configured order; ExtendedResolver's collection constructors
        // put the resolvers in a set. Without load balancing, servers are tried in that order,
        // those that failed recently last.
        ExtendedResolver extended = new ExtendedResolver(List.<Resolver>of());
        for (InetSocketAddress server : servers) {
            SimpleResolver r = new SimpleResolver(server);
            r.setTimeout(timeout);
            extended.addResolver(r);
        }
        extended.setLoadBalance(false);
        extended.setRetries(attempts);
        // ExtendedResolver's timeout is a deadline for the whole query, checked when an attempt
        // fails; dnsjava's NIO client notices an attempt's timeout only on its selector's
        // one-second tick. Without that slack per attempt, a dead first server would use up
        // the deadline and the others would never be asked.
        extended.setTimeout(timeout.plus(SELECTOR_TICK)
                .multipliedBy((long) attempts * Math.max(1, servers.size())));
        if (trustAnchors.isPresent()) {
            ValidatingResolver validating = new ValidatingResolver(extended);
            try {
                validating.loadTrustAnchors(new ByteArrayInputStream(
                        trustAnchors.get().getBytes(StandardCharsets.US_ASCII)));
            } catch (IOException e) {
                throw new IllegalArgumentException("trust anchors: " + e.getMessage(), e);
            }
            this.resolver = validating;
        } else {
            this.resolver = extended;
        }
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
        return resolver.sendAsync(query).toCompletableFuture()
                .thenCompose(response -> interpret(name, type, response, seen, hops))
                .exceptionally(DnsClient::transportFailure);
    }

    private CompletableFuture<DnsResult> interpret(Name name, int type, Message response,
                                                   Set<Name> seen, int hops) {
        boolean ad = response.getHeader().getFlag(Flags.AD);
        int rcode = response.getRcode();
        if (rcode == Rcode.NXDOMAIN) {
            return done(new DnsResult.NxDomain(ad));
        }
        if (rcode == Rcode.SERVFAIL && resolver instanceof ValidatingResolver) {
            for (Record r : response.getSection(Section.ADDITIONAL)) {
                if (r.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS
                        && r instanceof TXTRecord reason) {
                    return done(new DnsResult.Bogus(name + " " + Type.string(type) + ": "
                            + String.join("", reason.getStrings())));
                }
            }
        }
        if (rcode != Rcode.NOERROR) {
            return done(new DnsResult.Failure("rcode " + Rcode.string(rcode) + " for " + name
                    + " " + Type.string(type)));
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
                return done(new DnsResult.NoData(ad));
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
        if (result instanceof DnsResult.NoData) {
            return new DnsResult.NoData(false);
        }
        if (result instanceof DnsResult.NxDomain) {
            return new DnsResult.NxDomain(false);
        }
        return result;
    }

    private static DnsResult transportFailure(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null
                ? t.getCause() : t;
        if (isTimeout(cause)) {
            return new DnsResult.Timeout("no answer: " + cause.getMessage());
        }
        if (cause instanceof IOException) {
            return new DnsResult.Failure("transport: " + cause);
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
