package org.tlspolicy.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.control.ControlReply;
import org.tlspolicy.control.ControlRequest;
import org.tlspolicy.control.ControlServer;
import org.tlspolicy.dane.DaneLookup;
import org.tlspolicy.dane.DaneState;
import org.tlspolicy.mtasts.StsState;
import org.tlspolicy.policy.DomainOverride;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyTable;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * What {@code tlspolicyd cache list|show|purge|refresh} does to the running daemon, through
 * the control socket: lists what memory and the store hold, shows the answer Postfix would
 * get now, forgets a domain, or resolves it again. Each action that changes an answer is
 * logged with who asked (uid) and why:
 * {@code INFO control action=purge domain=… uid=… reason=…}.
 */
final class CacheControl implements ControlServer.Actions {

    private static final Logger log = LoggerFactory.getLogger(CacheControl.class);

    private final Supplier<PolicyEngine> engine;
    private final Supplier<DaemonConfig> config;
    private final PolicyTable table;
    private final PolicyStore store;

    CacheControl(Supplier<PolicyEngine> engine, Supplier<DaemonConfig> config, PolicyTable table,
                 PolicyStore store) {
        this.engine = engine;
        this.config = config;
        this.table = table;
        this.store = store;
    }

    @Override
    public CompletableFuture<ControlReply> act(ControlRequest request, int uid) {
        if (request instanceof ControlRequest.ListAll) {
            return describe(null).thenApply(lines -> ControlReply.ok(
                    lines.isEmpty() ? List.of("nothing cached") : lines));
        }
        if (request instanceof ControlRequest.Show s) {
            return show(s.domain());
        }
        if (request instanceof ControlRequest.Purge p) {
            return purge(p, uid);
        }
        if (request instanceof ControlRequest.Refresh r) {
            return refresh(r, uid);
        }
        return CompletableFuture.completedFuture(ControlReply.error(
                ((ControlRequest.Invalid) request).why()));
    }

    /** The answer Postfix gets now (a lookup as Postfix makes it), then what is cached. */
    private CompletableFuture<ControlReply> show(String domain) {
        return table.peek(domain).thenCompose(reply ->
                describe(domain).thenApply(lines -> {
                    List<String> out = new ArrayList<>();
                    out.add(domain + " reply=\"" + reply.payload() + "\"");
                    out.addAll(lines.isEmpty() ? List.of(domain + " nothing cached") : lines);
                    return ControlReply.ok(out);
                }));
    }

    private CompletableFuture<ControlReply> purge(ControlRequest.Purge p, int uid) {
        PolicyEngine e = engine.get();
        CompletableFuture<Boolean> sts = e.stsCache().map(c -> c.purge(p.domain()))
                .orElse(CompletableFuture.completedFuture(false));
        CompletableFuture<Boolean> dane = e.daneCache().map(c -> c.purge(p.domain()))
                .orElse(CompletableFuture.completedFuture(false));
        return sts.thenCombine(dane, (s, d) -> {
            String what = (s ? "mta-sts policy" : "") + (s && d ? " and " : "")
                    + (d ? "dane result" : "");
            log.info("control action=purge domain={} uid={} reason=\"{}\" stored=\"{}\"",
                    p.domain(), uid, p.reason(), what.isEmpty() ? "none" : what);
            return ControlReply.ok(List.of(p.domain() + " purged (stored: "
                    + (what.isEmpty() ? "nothing" : what) + "); the next lookup resolves "
                    + "afresh"));
        });
    }

    private CompletableFuture<ControlReply> refresh(ControlRequest.Refresh r, int uid) {
        PolicyEngine e = engine.get();
        log.info("control action=refresh domain={} uid={} reason=\"{}\"", r.domain(), uid,
                r.reason());
        CompletableFuture<?> sts = e.stsCache().<CompletableFuture<?>>map(c ->
                c.refreshNow(r.domain())).orElse(CompletableFuture.completedFuture(null));
        CompletableFuture<?> dane = e.daneCache().<CompletableFuture<?>>map(c ->
                c.refreshNow(r.domain())).orElse(CompletableFuture.completedFuture(null));
        return CompletableFuture.allOf(sts, dane).thenCompose(done -> show(r.domain()));
    }

    /** One line per cached item, of {@code only} or of every domain (null), by domain. */
    private CompletableFuture<List<String>> describe(String only) {
        PolicyEngine e = engine.get();
        Map<String, List<String>> byDomain = new TreeMap<>();
        for (DomainOverride o : config.get().overrides()) {
            add(byDomain, only, o.domain(), "override policy=\"" + o.policyText()
                    + "\" reason=\"" + o.reason() + "\"" + o.expires().map(d -> " expires=" + d)
                    .orElse("") + (o.activeAt(System.currentTimeMillis()) ? "" : " EXPIRED"));
        }
        e.daneCache().ifPresent(c -> c.snapshot().forEach((d, s) ->
                add(byDomain, only, d, dane(s))));
        e.stsCache().ifPresent(c -> c.snapshot().forEach((d, s) ->
                add(byDomain, only, d, sts(s))));
        return store.entries().thenApply(rows -> {
            for (PolicyStore.StoredEntry row : rows) {
                List<String> known = byDomain.getOrDefault(row.domain(), List.of());
                String prefix = row.domain() + " " + row.kind() + " ";
                if (known.stream().noneMatch(l -> l.startsWith(prefix))) {
                    add(byDomain, only, row.domain(), row.kind() + " stored (not in memory) "
                            + "until=" + at(row.validUntil()));
                }
            }
            List<String> out = new ArrayList<>();
            byDomain.values().forEach(out::addAll);
            return out;
        });
    }

    private static void add(Map<String, List<String>> byDomain, String only, String domain,
                            String what) {
        if (only == null || only.equals(domain)) {
            byDomain.computeIfAbsent(domain, k -> new ArrayList<>()).add(domain + " " + what);
        }
    }

    private static String sts(StsState s) {
        if (s instanceof StsState.Policy p) {
            return "mta-sts policy id=" + p.id() + " mode=" + p.policy().mode().name()
                    .toLowerCase(Locale.ROOT) + " until=" + at(p.expiresAt())
                    + (p.refreshProblem().isEmpty() ? "" : " refresh_problem=\""
                    + p.refreshProblem() + "\"");
        }
        StsState.NoPolicy n = (StsState.NoPolicy) s;
        return "mta-sts none reason=\"" + n.reason() + "\" until=" + at(n.validUntil());
    }

    private static String dane(DaneState s) {
        DaneLookup l = s.lookup();
        String what = l instanceof DaneLookup.Applies ? "applies reply=\"" + reply(s) + "\""
                : l instanceof DaneLookup.NotApplicable n ? "not-applicable reason=\""
                + n.reason() + "\""
                : l instanceof DaneLookup.Failed f ? (f.bogus() ? "bogus" : "indeterminate")
                + " reason=\"" + f.reason() + "\""
                : "null-mx";
        return "dane " + what + " until=" + at(s.validUntil());
    }

    /** The reply DANE gives on its own (MTA-STS may still decide when it gives none). */
    private static String reply(DaneState s) {
        return s.outcome() instanceof PolicyOutcome.Apply a ? a.reply().payload()
                : s.outcome() == null ? "" : s.outcome().reason();
    }

    private static String at(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }
}
