package org.tlspolicy.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.metrics.Health;
import org.tlspolicy.metrics.Metrics;
import org.tlspolicy.metrics.MetricsServer;
import org.tlspolicy.policy.PolicyTable;
import org.tlspolicy.tlsrpt.ReportPolicyResolver;
import org.tlspolicy.socketmap.SocketmapServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * tlspolicyd running: the socketmap server in front of the policy table, with reload and stop.
 *
 * <p>A reload re-reads the configuration file and applies what can change under live
 * connections (the map name); changes to listeners, limits or threads are logged as needing a
 * restart. An invalid file on reload is logged and the running configuration kept: a typo must
 * not take mail delivery down.
 */
public final class PolicyDaemon implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyDaemon.class);

    private final Optional<Path> configFile;
    private final PolicyEngine engine;
    private final PolicyTable table;
    private final SocketmapServer server;
    private final List<SocketAddress> bound;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final ServiceNotifier notifier;
    private final Optional<MetricsServer> metricsServer;
    private volatile boolean stopping;
    private volatile DaemonConfig config;

    private PolicyDaemon(DaemonConfig config, Optional<Path> configFile, ServiceNotifier notifier)
            throws IOException, ConfigException {
        this.config = config;
        this.configFile = configFile;
        this.notifier = notifier;
        Metrics metrics = new Metrics();
        this.engine = PolicyEngine.start(config, Optional.empty(), true, metrics);
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
                m = MetricsServer.start(config.metrics().get(), metrics, this::health);
                log.info("metrics listening on http://{}/metrics", hostPort(m.address()));
            }
        } catch (IOException | RuntimeException e) {
            if (s != null) {
                s.close(Duration.ZERO);
            }
            engine.close();
            throw e;
        }
        this.server = s;
        this.metricsServer = Optional.ofNullable(m);
    }

    /** What /health says: the store's state, and whether the daemon is stopping. */
    private Health health() {
        Health store = engine.storeHealth();
        if (!stopping) {
            return store;
        }
        List<String> problems = new ArrayList<>(store.problems());
        problems.add(0, "stopping");
        return new Health(problems, store.notices());
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
        log.info("started map={} listeners={}", c.mapName(), c.listen());
        notifier.send("READY=1\nSTATUS=serving map " + c.mapName() + " on " + c.listen());
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
        DaemonConfig next;
        try {
            next = ConfigLoader.load(configFile.get());
        } catch (ConfigException e) {
            log.error("reload failed, keeping the running configuration: {}", e.getMessage());
            notifier.send("READY=1\nSTATUS=reload failed, running configuration kept: "
                    + e.getMessage());
            return;
        }
        DaemonConfig current = config;
        if (!next.listen().equals(current.listen()) || !next.limits().equals(current.limits())
                || next.threads() != current.threads() || !next.logLevel().equals(current.logLevel())
                || !next.dns().equals(current.dns()) || !next.mtaSts().equals(current.mtaSts())
                || !next.dane().equals(current.dane())
                || !next.metrics().equals(current.metrics())
                || !next.cache().equals(current.cache()) || !next.tlsrpt().equals(current.tlsrpt())
                || !next.postfix().equals(current.postfix())) {
            log.warn("reload: only socketmap.map_name changes at once; the other changes take "
                    + "effect on restart");
        }
        table.mapName(next.mapName());
        config = next;
        log.info("reloaded config={} map={}", configFile.get(), next.mapName());
        notifier.send("READY=1\nSTATUS=serving map " + next.mapName() + " on "
                + current.listen());
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
        engine.close();
        metricsServer.ifPresent(MetricsServer::close);
        log.info("stopped");
        notifier.close();
        stopped.countDown();
    }
}
