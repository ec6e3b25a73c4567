package org.tlspolicy.policy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.metrics.Metrics;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.socketmap.SocketmapReply;
import org.tlspolicy.socketmap.SocketmapTable;

import java.util.concurrent.CompletableFuture;

/**
 * The socketmap table Postfix queries: map name check, key classification, resolution, and the
 * translation of outcomes into replies, with one log line per decision.
 *
 * <p>Keys that cannot carry a policy are answered on the calling thread without touching the
 * resolver, so the common negative answers cost no more than parsing the key.
 *
 * <p>Logging: a decision the resolver had to make (network, store) is logged at info, one line;
 * an answer from memory ({@link PolicyResolver#known}) repeats an earlier decision and is logged
 * at debug only.
 */
public final class PolicyTable implements SocketmapTable {

    private static final Logger log = LoggerFactory.getLogger("org.tlspolicy.decision");

    private static final CompletableFuture<SocketmapReply> NOT_FOUND =
            CompletableFuture.completedFuture(SocketmapReply.NOT_FOUND);

    private volatile String mapName;
    private volatile PolicyResolver resolver;
    private final Metrics metrics;
    private volatile String reportMapName;
    private volatile PolicyResolver reportResolver;

    public PolicyTable(String mapName, PolicyResolver resolver) {
        this(mapName, resolver, new Metrics());
    }

    /** A table that counts its lookups and resolutions in {@code metrics}. */
    public PolicyTable(String mapName, PolicyResolver resolver, Metrics metrics) {
        this.mapName = mapName;
        this.resolver = resolver;
        this.metrics = metrics;
    }

    /**
     * Also answers map {@code name} from {@code resolver}: the policies the TLS-RPT sender
     * reports under (replies carry the same policy syntax; logged at debug only).
     */
    public void reportMap(String name, PolicyResolver resolver) {
        this.reportResolver = resolver;
        this.reportMapName = name;
    }

    /**
     * Answers from {@code next} from now on, as a configuration reload may; lookups in flight
     * finish with the resolver they started with.
     */
    public void resolver(PolicyResolver next) {
        this.resolver = next;
    }

    /** Renames the map, as a configuration reload may; lookups in flight are unaffected. */
    public void mapName(String name) {
        this.mapName = name;
    }

    @Override
    public CompletableFuture<SocketmapReply> lookup(String name, String key) {
        if (!name.equals(mapName)) {
            if (name.equals(reportMapName)) {
                return reportLookup(key);
            }
            return CompletableFuture.completedFuture(
                    new SocketmapReply.Perm("unknown map name '" + name + "'"));
        }
        return answer(key, true);
    }

    /**
     * What a lookup of {@code key} answers now, as Postfix would get it, but not counted as a
     * lookup in the metrics: for the operator's {@code cache show} and the status page.
     */
    public CompletableFuture<SocketmapReply> peek(String key) {
        return answer(key, false);
    }

    private CompletableFuture<SocketmapReply> answer(String key, boolean count) {
        long start = System.nanoTime();
        NextHop nextHop = NextHop.parse(key);
        if (nextHop instanceof NextHop.NoLookup) {
            // The hot negative path: one shared future, no allocation beyond parsing the key.
            logNoLookup(key, nextHop, start);
            if (count) {
                metrics.lookup(SocketmapReply.NOT_FOUND, "none");
            }
            return NOT_FOUND;
        }
        NextHop.Domain domain = (NextHop.Domain) nextHop;
        PolicyOutcome known = known(domain);
        if (known != null) {
            // The hot positive path: the reply of a remembered decision, no Decision built
            // unless it is logged.
            SocketmapReply reply = reply(known);
            if (count) {
                metrics.lookup(reply, source(known));
            }
            if (log.isDebugEnabled()) {
                log.debug(new Decision(key, domain, known, reply, System.nanoTime() - start)
                        .logLine());
            }
            return CompletableFuture.completedFuture(reply);
        }
        return resolve(key, domain, start).thenApply(d -> {
            if (count) {
                metrics.lookup(d.reply(), source(d.outcome()));
            }
            return d.reply();
        });
    }

    private static String source(PolicyOutcome outcome) {
        return outcome instanceof PolicyOutcome.Apply a ? a.source() : "none";
    }

    private PolicyOutcome known(NextHop.Domain domain) {
        try {
            return resolver.known(domain);
        } catch (RuntimeException e) {
            return null; // resolve() will fail the same way and say so
        }
    }

    /** Decides the reply for {@code key}, logging the decision. */
    public CompletableFuture<Decision> decide(String key) {
        long start = System.nanoTime();
        NextHop nextHop = NextHop.parse(key);
        if (nextHop instanceof NextHop.NoLookup) {
            Decision decision = noLookup(key, nextHop, start);
            if (log.isDebugEnabled()) {
                log.debug(decision.logLine());
            }
            return CompletableFuture.completedFuture(decision);
        }
        return resolve(key, (NextHop.Domain) nextHop, start);
    }

    /** Logs at debug only: on the hot path the Decision is not even built otherwise. */
    private static void logNoLookup(String key, NextHop nextHop, long start) {
        if (log.isDebugEnabled()) {
            log.debug(noLookup(key, nextHop, start).logLine());
        }
    }

    private static Decision noLookup(String key, NextHop nextHop, long start) {
        return new Decision(key, nextHop, null, SocketmapReply.NOT_FOUND,
                System.nanoTime() - start);
    }

    private CompletableFuture<Decision> resolve(String key, NextHop.Domain domain, long start) {
        PolicyOutcome known = known(domain);
        if (known != null) {
            // Repeats a decision made (and logged at info) when it was resolved.
            Decision decision = new Decision(key, domain, known, reply(known),
                    System.nanoTime() - start);
            if (log.isDebugEnabled()) {
                log.debug(decision.logLine());
            }
            return CompletableFuture.completedFuture(decision);
        }
        CompletableFuture<PolicyOutcome> resolution;
        try {
            resolution = resolver.resolve(domain);
        } catch (RuntimeException e) {
            resolution = CompletableFuture.failedFuture(e);
        }
        return resolution
                .exceptionally(e -> {
                    // A resolver bug must not become a downgrade: defer the mail and say why.
                    log.error("resolver failed key=\"{}\"", key, e);
                    return new PolicyOutcome.Defer("internal error");
                })
                .thenApply(outcome -> {
                    long nanos = System.nanoTime() - start;
                    metrics.resolution(nanos);
                    Decision decision = new Decision(key, domain, outcome, reply(outcome), nanos);
                    log.info(decision.logLine());
                    return decision;
                });
    }

    private CompletableFuture<SocketmapReply> reportLookup(String key) {
        NextHop nextHop = NextHop.parse(key);
        if (!(nextHop instanceof NextHop.Domain domain)) {
            return NOT_FOUND;
        }
        CompletableFuture<PolicyOutcome> outcome;
        try {
            outcome = reportResolver.resolve(domain);
        } catch (RuntimeException e) {
            outcome = CompletableFuture.failedFuture(e);
        }
        return outcome.handle((o, e) -> {
            if (e != null) {
                log.error("report policy failed key=\"{}\"", key, e);
                return new SocketmapReply.Temp("internal error");
            }
            SocketmapReply reply = reply(o);
            if (log.isDebugEnabled()) {
                log.debug("report-policy key={} reply={}", key, reply.status());
            }
            return reply;
        });
    }

    /** The socketmap reply for an outcome. */
    public static SocketmapReply reply(PolicyOutcome outcome) {
        if (outcome instanceof PolicyOutcome.Apply apply) {
            return apply.reply();
        }
        if (outcome instanceof PolicyOutcome.Defer defer) {
            return new SocketmapReply.Temp(defer.reason());
        }
        return SocketmapReply.NOT_FOUND;
    }
}
