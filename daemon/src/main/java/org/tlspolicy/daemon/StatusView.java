package org.tlspolicy.daemon;

import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.control.ControlReply;
import org.tlspolicy.control.ControlRequest;
import org.tlspolicy.dane.DaneLookup;
import org.tlspolicy.dns.ValidationCheck;
import org.tlspolicy.metrics.Health;
import org.tlspolicy.metrics.Metrics;
import org.tlspolicy.mtasts.StsState;
import org.tlspolicy.policy.DomainOverride;
import org.tlspolicy.status.DomainsPage;
import org.tlspolicy.status.ReceivedReports;
import org.tlspolicy.status.StatusPage;
import org.tlspolicy.status.TlsrptSummary;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The running daemon as the status page shows it: gathers a {@link StatusPage.Snapshot} from
 * the metrics, the engine's caches and checks, the configuration and (for a domain search) the
 * control actions' {@code show}.
 */
final class StatusView {

    private final Supplier<PolicyEngine> engine;
    private final Supplier<DaemonConfig> config;
    private final Metrics metrics;
    private final Supplier<Health> health;
    private final CacheControl control;
    private final Supplier<String> serving;
    /** The receiver's store as last configured, and its reader (kept: it caches a minute). */
    private Optional<java.nio.file.Path> receiverPath = Optional.empty();
    private Optional<ReceivedReports> receiver = Optional.empty();

    /** @param serving what it serves where, e.g. {@code map postfix on [/127.0.0.1:8461]} */
    StatusView(Supplier<PolicyEngine> engine, Supplier<DaemonConfig> config, Metrics metrics,
               Supplier<Health> health, CacheControl control, Supplier<String> serving) {
        this.serving = serving;
        this.engine = engine;
        this.config = config;
        this.metrics = metrics;
        this.health = health;
        this.control = control;
    }

    /** The "your domains" page, read off the event loop (SQLite). */
    CompletableFuture<String> domains() {
        return CompletableFuture.supplyAsync(() -> receiver().map(r -> DomainsPage.render(
                r.reading())).orElse(DomainsPage.render(new ReceivedReports.Reading.Unavailable(
                Instant.now(), "metrics.tlsrpt_receiver_store is empty: no view"))));
    }

    /** The tlsrpt_receiver_* series, or nothing without a store. */
    String receiverMetrics() {
        return receiver().map(ReceivedReports::metrics).orElse("");
    }

    private synchronized Optional<ReceivedReports> receiver() {
        Optional<java.nio.file.Path> path = config.get().receiverStore();
        if (!path.equals(receiverPath)) {
            receiverPath = path;
            receiver = path.map(p -> new ReceivedReports(p, java.time.Clock.systemUTC()));
        }
        return receiver;
    }

    /** The page, with the result of a search for {@code domain} if one is asked. */
    CompletableFuture<String> page(Optional<String> domain) {
        CompletableFuture<Optional<StatusPage.Search>> search = domain.isEmpty()
                ? CompletableFuture.completedFuture(Optional.empty())
                : search(domain.get());
        return search.thenApply(s -> StatusPage.render(snapshot(s)));
    }

    private CompletableFuture<Optional<StatusPage.Search>> search(String domain) {
        ControlRequest request = ControlRequest.parse("show " + domain);
        CompletableFuture<ControlReply> reply = request instanceof ControlRequest.Invalid i
                ? CompletableFuture.completedFuture(ControlReply.error(i.why()))
                : control.act(request, -1);
        return reply.thenApply(r -> Optional.of(new StatusPage.Search(domain, r.ok()
                ? r.lines() : List.of("error: " + r.error()))));
    }

    private StatusPage.Snapshot snapshot(Optional<StatusPage.Search> search) {
        DaemonConfig c = config.get();
        PolicyEngine e = engine.get();
        Health h = health.get();
        long now = System.currentTimeMillis();
        List<String> sizes = new ArrayList<>();
        List<String> deferred = new ArrayList<>();
        List<String> failing = new ArrayList<>();
        e.stsCache().ifPresent(cache -> {
            sizes.add("mta-sts: " + cache.size() + " domains");
            cache.snapshot().forEach((d, s) -> {
                if (s instanceof StsState.Policy p && !p.refreshProblem().isEmpty()) {
                    failing.add(d + ": MTA-STS refresh failed, policy id=" + p.id()
                            + " kept until " + Instant.ofEpochMilli(p.expiresAt()) + ": "
                            + p.refreshProblem());
                } else if (s instanceof StsState.NoPolicy n && n.failure() != null
                        && now < n.validUntil()) {
                    failing.add(d + ": MTA-STS announced, no usable policy: " + n.reason());
                }
            });
        });
        e.daneCache().ifPresent(cache -> {
            sizes.add("dane: " + cache.size() + " domains");
            cache.snapshot().forEach((d, s) -> {
                if (s.lookup() instanceof DaneLookup.Failed f && now < s.validUntil()) {
                    deferred.add(d + ": DANE " + (f.bogus() ? "bogus" : "indeterminate") + ": "
                            + f.reason());
                }
            });
        });
        deferred.sort(null);
        failing.sort(null);
        List<String> overrides = new ArrayList<>();
        for (DomainOverride o : c.overrides()) {
            overrides.add(o.domain() + ": policy=\"" + o.policyText() + "\" reason=\""
                    + o.reason() + "\"" + o.expires().map(d -> " until " + d).orElse("")
                    + (o.activeAt(now) ? "" : " (expired: ignored)"));
        }
        List<String> reports = c.tlsrptStore().map(p -> TlsrptSummary.of(p,
                LocalDate.now(ZoneOffset.UTC).minusDays(1))).orElse(List.of(
                "metrics.tlsrpt_store is empty: no summary"));
        String version = Optional.ofNullable(PolicyDaemon.class.getPackage()
                .getImplementationVersion()).map(v -> "tlspolicyd " + v).orElse("tlspolicyd");
        return new StatusPage.Snapshot(Instant.ofEpochMilli(now), version, serving.get(),
                h.problems(), h.notices(),
                dnssec(c, e), metrics.history().series(), metrics.lookups(),
                metrics.resolutions(), metrics.resolutionQuantile(0.5),
                metrics.resolutionQuantile(0.9), metrics.resolutionQuantile(0.99), sizes,
                deferred, failing, overrides, reports, search);
    }

    private static String dnssec(DaemonConfig c, PolicyEngine e) {
        if (!c.dane().enabled()) {
            return "not run: DANE is off";
        }
        Optional<ValidationCheck.State> s = e.validation();
        if (s.isEmpty()) {
            return c.dane().dnssec() == DaemonConfig.Dnssec.RESOLVER ? "not run: dane.dnssec "
                    + "resolver trusts the AD bit of dns.servers" : "not run";
        }
        if (s.get() instanceof ValidationCheck.State.Validates v) {
            return "ok: the SOA of " + v.zone() + " validates";
        }
        if (s.get() instanceof ValidationCheck.State.Fails f) {
            return "FAILING: " + f.problem();
        }
        return "not answered yet";
    }
}
