package org.tlspolicy.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.control.ControlServer;
import org.tlspolicy.log.JournalLog;
import org.tlspolicy.metrics.Health;
import org.tlspolicy.metrics.Metrics;
import org.tlspolicy.metrics.MetricsServer;
import org.tlspolicy.mtasts.PolicyHostTrust;
import org.tlspolicy.policy.PolicyTable;
import org.tlspolicy.socketmap.SocketmapServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * tlspolicyd running: the socketmap server in front of the policy table, with reload and stop.
 *
 * <p>A reload re-reads the configuration file and applies, without dropping a connection,
 * everything but what is bound at start: the listeners ({@code socketmap.listen}, the
 * sockets Postfix holds open), {@code socketmap.threads} (the event loops those connections
 * live on), the {@code metrics} listener, the control socket and {@code cache.path} (the open
 * store, whose writes must not be split between two files). Those are logged as needing a
 * restart. DNS, MTA-STS, DANE, cache, TLSRPT, Postfix and overrides settings build a new
 * policy engine on the same store, which answers from then on (lookups in flight finish on
 * the old one) and takes over what the old one held in memory where that rests on unchanged
 * DNS, MTA-STS or DANE settings; limits apply to connections accepted from then on
 * ({@code max_connections} at once); the log level at once.
 * An invalid file on reload is logged and the running configuration kept: a typo must not
 * take mail delivery down.
 */
public final class PolicyDaemon implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyDaemon.class);

    private final Optional<Path> configFile;
    private final PolicyStore store;
    private final Metrics metrics;
    private volatile PolicyEngine engine;
    private volatile boolean announced;
    private final PolicyTable table;
    private final SocketmapServer server;
    private final List<SocketAddress> bound;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final ServiceNotifier notifier;
    private final Optional<MetricsServer> metricsServer;
    private final Optional<ControlServer> control;
    private final BackgroundPriority background;
    private volatile boolean stopping;
    private volatile DaemonConfig config;

    private PolicyDaemon(DaemonConfig config, Optional<Path> configFile, ServiceNotifier notifier)
            throws IOException, ConfigException {
        this.config = config;
        this.configFile = configFile;
        this.notifier = notifier;
        this.metrics = new Metrics();
        this.store = PolicyStore.open(config.cache().path());
        try {
            this.engine = PolicyEngine.start(config, Optional.of(store), true, metrics,
                    this::healthChanged);
        } catch (ConfigException | RuntimeException e) {
            store.close();
            throw e;
        }
        this.table = new PolicyTable(config.mapName(), engine.resolver(), metrics);
        table.reportMap(ReportPolicyResolver.MAP_NAME, engine.reportResolver());
        SocketmapServer s = null;
        MetricsServer m = null;
        try {
            s = new SocketmapServer(table, config.limits(), config.threads());
            this.bound = s.bind(config.listen());
            SocketmapServer srv = s;
            metrics.gauge("tlspolicyd_connections", "Socketmap connections open (alert near "
                    + "socketmap.max_connections).", srv::openConnections);
            metrics.counter("tlspolicyd_connections_closed_total{reason=\"evicted\"}",
                    "Connections closed by tlspolicyd: evicted (idle, at the limit, for a new "
                    + "one), refused (at the limit, nothing idle: alert on any), malformed "
                    + "(PERM), stalled (request unfinished in request_timeout).",
                    srv::evictedConnections);
            metrics.counter("tlspolicyd_connections_closed_total{reason=\"refused\"}", "",
                    srv::refusedConnections);
            metrics.counter("tlspolicyd_connections_closed_total{reason=\"malformed\"}", "",
                    srv::malformedRequests);
            metrics.counter("tlspolicyd_connections_closed_total{reason=\"stalled\"}", "",
                    srv::stalledRequests);
            if (config.metrics().isPresent()) {
                StatusView view = new StatusView(() -> engine, () -> this.config, metrics,
                        this::health, control(), () -> "map " + this.config.mapName() + " on "
                        + this.bound.stream().map(a -> a instanceof InetSocketAddress i
                        ? hostPort(i) : "unix:" + a).toList());
                m = MetricsServer.start(config.metrics().get(), metrics, this::health,
                        view::page, view::domains, view::receiverMetrics);
                log.info("metrics listening on http://{}/metrics", hostPort(m.address()));
            }
        } catch (IOException | RuntimeException e) {
            if (s != null) {
                s.close(Duration.ZERO);
            }
            engine.close();
            store.close();
            throw e;
        }
        this.server = s;
        this.metricsServer = Optional.ofNullable(m);
        ControlServer c = null;
        if (config.controlSocket().isPresent()) {
            try {
                c = ControlServer.start(config.controlSocket().get(), control());
            } catch (IOException e) {
                // Serving Postfix matters more than the operator's commands: go on without.
                log.warn("control socket unavailable, tlspolicyd cache commands will not "
                        + "reach this daemon: {}", e.getMessage());
            }
        }
        this.control = Optional.ofNullable(c);
        this.background = BackgroundPriority.start(BACKGROUND_SECONDS);
    }

    /** How often threads begun since are looked for (BackgroundPriority). */
    private static final long BACKGROUND_SECONDS = 5;

    /** The actions of the control socket and the status page's search. */
    private CacheControl control() {
        return new CacheControl(() -> engine, () -> config, table, store);
    }

    /**
     * What /health says: the engine's state (DNSSEC validation, the store), and whether the
     * daemon is stopping.
     */
    private Health health() {
        Health h = engine.health();
        if (!stopping) {
            return h;
        }
        List<String> problems = new ArrayList<>(h.problems());
        problems.add(0, "stopping");
        return new Health(problems, h.notices());
    }

    /**
     * systemd's STATUS= line ({@code systemctl status} shows it): what the daemon serves, or
     * first what keeps it from answering right (every DANE domain deferred).
     */
    private String status() {
        DaemonConfig c = config;
        String serving = "serving map " + c.mapName() + " on " + c.listen();
        List<String> problems = engine.health().problems();
        return problems.isEmpty() ? serving : "PROBLEM: " + problems.get(0) + " (" + serving + ")";
    }

    /** The engine's health changed (from one of its threads): tell systemd, once announced. */
    private void healthChanged() {
        if (announced) {
            notifier.send("STATUS=" + status());
        }
    }

    /** Starts serving; returns once every listener is bound. */
    public static PolicyDaemon start(DaemonConfig config, Optional<Path> configFile)
            throws IOException, ConfigException {
        return start(config, configFile, ServiceNotifier.NONE);
    }

    /**
     * Starts serving and, once every listener is bound, tells {@code notifier} (systemd's
     * {@code READY=1}); reloads and the stop are announced too.
     */
    public static PolicyDaemon start(DaemonConfig config, Optional<Path> configFile,
                                     ServiceNotifier notifier) throws IOException, ConfigException {
        PolicyDaemon daemon = open(config, configFile, notifier);
        daemon.ready();
        return daemon;
    }

    /**
     * Binds every listener and starts answering, without announcing it: the caller first
     * installs what a signal needs (the shutdown hook), then calls {@link #ready()}, so that a
     * SIGTERM sent on "started" always finds the graceful stop in place.
     */
    public static PolicyDaemon open(DaemonConfig config, Optional<Path> configFile,
                                    ServiceNotifier notifier) throws IOException, ConfigException {
        return new PolicyDaemon(config, configFile, notifier);
    }

    /** Announces that the daemon serves: the "started" log line and systemd's READY=1. */
    public void ready() {
        DaemonConfig c = config;
        log.info("started map={} listeners={} policy_fetch_tls=\"{}\"", c.mapName(), c.listen(),
                PolicyHostTrust.describeProvider());
        announced = true;
        notifier.send("READY=1\nSTATUS=" + status());
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Where the metrics endpoint listens, if it does (with the real port). */
    public Optional<InetSocketAddress> metricsAddress() {
        return metricsServer.map(MetricsServer::address);
    }

    /** The addresses actually bound (with the real port where 0 was asked for). */
    public List<SocketAddress> boundAddresses() {
        return bound;
    }

    /** Re-reads the configuration file; see the class comment for what takes effect. */
    public synchronized void reload() {
        if (configFile.isEmpty()) {
            log.info("reload: no config file, embedded defaults unchanged");
            return;
        }
        notifier.send("RELOADING=1");
        DaemonConfig current = config;
        DaemonConfig next;
        try {
            next = ConfigLoader.load(configFile.get());
        } catch (ConfigException e) {
            log.error("reload failed, keeping the running configuration: {}", e.getMessage());
            notifier.send("READY=1\nSTATUS=reload failed, running configuration kept: "
                    + e.getMessage());
            return;
        }
        List<String> restart = new ArrayList<>();
        if (!next.listen().equals(current.listen())) {
            restart.add("socketmap.listen");
        }
        if (next.threads() != current.threads()) {
            restart.add("socketmap.threads");
        }
        if (!next.metrics().equals(current.metrics())) {
            restart.add("metrics.listen");
        }
        if (!next.cache().path().equals(current.cache().path())) {
            restart.add("cache.path");
        }
        if (!next.controlSocket().equals(current.controlSocket())) {
            restart.add("control.socket");
        }
        // What runs from now on: the new file, but for what only a restart changes.
        DaemonConfig running = new DaemonConfig(next.mapName(), current.listen(), next.limits(),
                current.threads(), next.shutdownGrace(), next.logLevel(), next.dns(),
                next.mtaSts(), next.dane(), new DaemonConfig.Cache(current.cache().path(),
                next.cache().maxEntries(), next.cache().maxMemoryMib(), next.cache().negativeTtl(),
                next.cache().failureTtl(), next.cache().checkInterval(),
                next.cache().refreshRate(), next.cache().resolutionRate(),
                next.cache().shared()),
                next.tlsrpt(), next.postfix(), current.metrics(), next.tlsrptStore(),
                next.receiverStore(), current.controlSocket(), next.overrides());
        List<String> applied = new ArrayList<>();
        // Without dns.servers the resolvers are resolv.conf's, read at the engine's start: a
        // resolv.conf changed since (unbound installed, say) needs a new engine too.
        org.tlspolicy.dns.DnsServers before = engine.servers();
        org.tlspolicy.dns.DnsServers after = PolicyEngine.servers(running.dns());
        boolean resolvers = (running.mtaSts().enabled() || running.dane().enabled())
                && !after.addresses().equals(before.addresses());
        if (resolvers || !running.dns().equals(current.dns())
                || !running.mtaSts().equals(current.mtaSts())
                || !running.dane().equals(current.dane())
                || !running.cache().equals(current.cache())
                || !running.tlsrpt().equals(current.tlsrpt())
                || !running.postfix().equals(current.postfix())
                || !running.overrides().equals(current.overrides())) {
            PolicyEngine fresh;
            try {
                fresh = PolicyEngine.start(running, Optional.of(store), true, metrics,
                        this::healthChanged);
            } catch (ConfigException | RuntimeException e) {
                log.error("reload failed, keeping the running configuration: {}",
                        e.getMessage());
                notifier.send("READY=1\nSTATUS=reload failed, running configuration kept: "
                        + e.getMessage());
                return;
            }
            PolicyEngine old = engine;
            String kept = keepMemory(old, fresh, current, running);
            engine = fresh;
            table.resolver(fresh.resolver());
            table.reportMap(ReportPolicyResolver.MAP_NAME, fresh.reportResolver());
            // Lookups in flight on the old engine end within lookup_timeout; then it goes.
            CompletableFuture.delayedExecutor(current.limits().lookupTimeout().toMillis()
                    + 1000, TimeUnit.MILLISECONDS).execute(old::close);
            applied.add("policy engine (dns, mta_sts, dane, cache, tlsrpt, postfix, "
                    + "overrides), memory kept: " + kept);
            if (resolvers) {
                applied.add("resolvers now " + after + ", were " + before);
            }
        }
        if (!running.limits().equals(current.limits())) {
            server.limits(running.limits());
            applied.add("socketmap limits");
        }
        if (!running.logLevel().equals(current.logLevel())) {
            JournalLog.level(running.logLevel());
            applied.add("log.level");
        }
        if (!running.mapName().equals(current.mapName())) {
            table.mapName(running.mapName());
            applied.add("socketmap.map_name");
        }
        if (!running.shutdownGrace().equals(current.shutdownGrace())) {
            applied.add("shutdown_grace");
        }
        config = running;
        if (!restart.isEmpty()) {
            log.warn("reload: changes to {} take effect on restart only (bound at start)",
                    String.join(", ", restart));
        }
        log.info("reloaded config={} map={} applied=[{}] restart_needed=[{}]", configFile.get(),
                running.mapName(), String.join("; ", applied), String.join(", ", restart));
        notifier.send("READY=1\nSTATUS=" + status());
    }

    /**
     * Hands what {@code old} holds in memory to {@code fresh} where it rests on unchanged
     * settings: the MTA-STS states if {@code dns} and {@code mta_sts} are the same, the DANE
     * results if {@code dns} and {@code dane} are (and, without {@code dns.servers}, the
     * resolvers of resolv.conf: answers of the old ones, failures among them, are not kept). Why: "no MTA-STS" answers are not in the
     * cache file; without this, a reload that only adds an override sends every known domain
     * without MTA-STS back to DNS, its lookups waiting their turn of
     * {@code cache.resolution_rate}.
     * Says what was kept, e.g. {@code "mta_sts=9000 dane=none"}.
     */
    private static String keepMemory(PolicyEngine old, PolicyEngine fresh, DaemonConfig was,
                                     DaemonConfig now) {
        boolean sameDns = now.dns().equals(was.dns())
                && old.servers().addresses().equals(fresh.servers().addresses());
        String sts = "none";
        if (sameDns && now.mtaSts().equals(was.mtaSts())
                && old.stsCache().isPresent() && fresh.stsCache().isPresent()) {
            var states = old.stsCache().get().snapshot();
            fresh.stsCache().get().adopt(states);
            sts = String.valueOf(states.size());
        }
        String dane = "none";
        if (sameDns && now.dane().equals(was.dane())
                && old.daneCache().isPresent() && fresh.daneCache().isPresent()) {
            var results = old.daneCache().get().snapshot();
            fresh.daneCache().get().adopt(results);
            dane = String.valueOf(results.size());
        }
        return "mta_sts=" + sts + " dane=" + dane;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    /** Stops accepting, lets lookups in flight finish within the grace period, and stops. */
    @Override
    public void close() {
        if (stopped.getCount() == 0) {
            return;
        }
        log.info("stopping grace_ms={}", config.shutdownGrace().toMillis());
        notifier.send("STOPPING=1");
        stopping = true; // /health answers 503 while lookups in flight finish
        server.close(config.shutdownGrace());
        background.close();
        control.ifPresent(ControlServer::close);
        engine.close();
        store.close();
        metricsServer.ifPresent(MetricsServer::close);
        log.info("stopped");
        notifier.close();
        stopped.countDown();
    }
}
