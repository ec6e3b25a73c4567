package org.tlspolicy.daemon;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.cache.SharedTier;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.dane.DaneCache;
import org.tlspolicy.dane.DaneDecision;
import org.tlspolicy.dane.DanePrecedence;
import org.tlspolicy.dane.DaneResolver;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.dns.ValidationCheck;
import org.tlspolicy.fleet.FleetKey;
import org.tlspolicy.fleet.SharedCache;
import org.tlspolicy.metrics.Health;
import org.tlspolicy.metrics.Metrics;
import org.tlspolicy.mtasts.PolicyFetcher;
import org.tlspolicy.mtasts.PolicyHostTrust;
import org.tlspolicy.mtasts.StsCache;
import org.tlspolicy.mtasts.StsDecision;
import org.tlspolicy.mtasts.StsPolicyResolver;
import org.tlspolicy.mtasts.StsResolver;
import org.tlspolicy.outbound.ResolutionRate;
import org.tlspolicy.outbound.SocketBudget;
import org.tlspolicy.policy.NoPolicyResolver;
import org.tlspolicy.policy.OverrideResolver;
import org.tlspolicy.policy.PolicyResolver;
import org.tlspolicy.tlsrpt.TlsrptMode;
import org.xbill.DNS.Master;
import org.xbill.DNS.Name;
import org.tlspolicy.dns.DnsServers;
import org.xbill.DNS.ResolverConfig;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The resolution machinery a configuration asks for, with what it owns: DNS client, policy
 * fetcher, store, caches, and their threads: DANE in front of MTA-STS when both are on.
 */
public final class PolicyEngine implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyEngine.class);

    /** RFC 8461 §3.3: the policy is fetched with HTTPS, on its default port. */
    private static final int HTTPS_PORT = 443;

    private final PolicyResolver resolver;
    private final Optional<StsCache> stsCache;
    private final Optional<StsResolver> stsResolver;
    private final Optional<DaneCache> daneCache;
    private final Optional<DaneResolver> daneResolver;
    private final Optional<PolicyStore> store;
    /** Closed with the engine: opened by it, not passed in (a reload passes the running one). */
    private final boolean ownsStore;
    private final EventLoopGroup http;
    private final ScheduledExecutorService timer;
    private final ResolutionRate rate;
    private final Optional<ValidationCheck> validation;
    private final Optional<SharedCache> shared;
    private final DnsServers servers;

    private PolicyEngine(PolicyResolver resolver, Optional<StsCache> stsCache,
                         Optional<StsResolver> stsResolver, Optional<DaneCache> daneCache,
                         Optional<DaneResolver> daneResolver, Optional<PolicyStore> store,
                         boolean ownsStore, EventLoopGroup http, ScheduledExecutorService timer,
                         ResolutionRate rate, Optional<ValidationCheck> validation,
                         Optional<SharedCache> shared, DnsServers servers) {
        this.servers = servers;
        this.shared = shared;
        this.rate = rate;
        this.validation = validation;
        this.resolver = resolver;
        this.stsCache = stsCache;
        this.stsResolver = stsResolver;
        this.daneCache = daneCache;
        this.daneResolver = daneResolver;
        this.store = store;
        this.ownsStore = ownsStore;
        this.http = http;
        this.timer = timer;
    }

    /**
     * Builds the engine for {@code config}. {@code background} starts the refresher (the daemon);
     * without it nothing runs until asked (the query command). {@code existingStore} is used and
     * left open (a reload passes the running one); without it the engine opens the configured
     * file and closes it with itself.
     */
    public static PolicyEngine start(DaemonConfig config, Optional<PolicyStore> existingStore,
                                     boolean background) throws ConfigException {
        return start(config, existingStore, background, new Metrics());
    }

    /** As {@link #start(DaemonConfig, Optional, boolean)}, counting in {@code metrics}. */
    public static PolicyEngine start(DaemonConfig config, Optional<PolicyStore> existingStore,
                                     boolean background, Metrics metrics) throws ConfigException {
        return start(config, existingStore, background, metrics, () -> { });
    }

    /**
     * As {@link #start(DaemonConfig, Optional, boolean, Metrics)}; {@code onHealthChange} runs
     * when {@link #health()} may say something new (the DNSSEC check changed state).
     */
    public static PolicyEngine start(DaemonConfig config, Optional<PolicyStore> existingStore,
                                     boolean background, Metrics metrics,
                                     Runnable onHealthChange) throws ConfigException {
        boolean sts = config.mtaSts().enabled();
        boolean dane = config.dane().enabled();
        if (!sts && !dane) {
            return new PolicyEngine(withOverrides(config, new NoPolicyResolver(), metrics),
                    Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), false, null, null, ResolutionRate.unlimited(),
                    Optional.empty(), Optional.empty(), new DnsServers(List.of(), "none"));
        }
        // Read once: both clients ask the same servers, and a reload compares them.
        DnsServers servers = servers(config.dns());
        // Everything that can fail on a bad configuration comes before any thread is started.
        boolean validate = config.dane().dnssec() == DaemonConfig.Dnssec.VALIDATE;
        String anchors = dane && validate ? trustAnchors(config) : "";
        SocketBudget[] sockets = socketBudgets(config, background, metrics);
        ResolutionRate rate = background ? ResolutionRate.of(config.cache().resolutionRate())
                : ResolutionRate.unlimited();
        metrics.gauge("tlspolicyd_resolutions_waiting", "Resolutions waiting for their turn "
                + "(cache.resolution_rate).", rate::waiting);
        DnsClient daneResolverDns = dane ? daneDnsClient(config, servers, anchors, sockets[0])
                : null;
        Optional<DaneResolver> daneResolver = dane
                ? Optional.of(new DaneResolver(daneResolverDns, rate)) : Optional.empty();
        SslContext tls = sts ? policyHostTls(config) : null;
        EventLoopGroup http = sts ? fetchLoop() : null;
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                named("policy-timer"));
        PolicyStore store = existingStore.orElseGet(() -> PolicyStore.open(config.cache().path()));
        boolean ownsStore = existingStore.isEmpty();
        metrics.gauge("tlspolicyd_store_writable", "1 while the cache file takes writes; 0: "
                + "new policies would not survive a restart (alert on 0).", store::writable);
        metrics.gauge("tlspolicyd_store_held_writes", "Writes that failed and wait to be tried "
                + "again.", store::heldWrites);
        metrics.counter("tlspolicyd_store_write_failures_total", "Writes to the cache file "
                + "that failed.", store::writeFailures);
        metrics.counter("tlspolicyd_store_corrupt_files_total", "Cache files found corrupt "
                + "and moved aside (alert on any).", store::corruptFiles);
        DaemonConfig.Cache c = config.cache();
        // The query command resolves on its own: it neither reads nor writes the fleet's.
        Optional<SharedCache> shared = background
                ? c.shared().map(s -> sharedCache(config, s, metrics)) : Optional.empty();
        SharedTier tier = shared.<SharedTier>map(x -> x).orElse(SharedTier.NONE);
        TlsrptMode tlsrpt = TlsrptMode.of(config.tlsrpt(), config.postfix());
        PolicyResolver resolver = new NoPolicyResolver();
        Optional<StsCache> stsCache = Optional.empty();
        Optional<StsResolver> stsResolver = Optional.empty();
        if (sts) {
            StsResolver r = stsResolver(config, servers, tls, http, sockets[0], sockets[1],
                    rate);
            StsCache cache = new StsCache(r, store, tier, new StsCache.Settings(c.maxEntries(),
                    c.stsBytes(), c.negativeTtl(), c.failureTtl(), c.checkInterval(),
                    c.refreshRate()), System::currentTimeMillis);
            if (background) {
                cache.startRefreshing(timer);
            }
            cache.metrics(metrics);
            metrics.gauge("tlspolicyd_cache_entries{cache=\"mta-sts\"}",
                    "Entries held in memory, by cache.", cache::size);
            metrics.gauge("tlspolicyd_cache_memory_bytes{cache=\"mta-sts\"}", "Estimated heap "
                    + "of the entries held in memory, by cache (bounded by cache.max_memory_mib).",
                    cache::bytes);
            resolver = new StsPolicyResolver(cache, new StsDecision(
                    config.mtaSts().strictTesting(), tlsrpt));
            stsCache = Optional.of(cache);
            stsResolver = Optional.of(r);
        }
        Optional<DaneCache> daneCache = Optional.empty();
        Optional<ValidationCheck> validation = dane && background && validate
                ? checkValidation(anchors, daneResolverDns, timer, onHealthChange)
                : Optional.empty();
        metrics.gauge("tlspolicyd_dnssec_validation_failing", "1 while DNSSEC validation of "
                + "the trust anchor's zone fails: every DANE domain's mail defers (alert on 1).",
                () -> validation.map(v -> v.problem().isPresent() ? 1L : 0L).orElse(0L));
        if (dane) {
            DaneDecision decision = DaneDecision.forPostfix();
            DaneCache cache = new DaneCache(daneResolver.get(), decision, store, tier,
                    new DaneCache.Settings(c.maxEntries(), c.daneBytes(), config.dane().minTtl(),
                            config.dane().maxTtl(), c.failureTtl()),
                    System::currentTimeMillis);
            cache.metrics(metrics);
            metrics.gauge("tlspolicyd_cache_entries{cache=\"dane\"}",
                    "Entries held in memory, by cache.", cache::size);
            metrics.gauge("tlspolicyd_cache_memory_bytes{cache=\"dane\"}", "Estimated heap "
                    + "of the entries held in memory, by cache (bounded by cache.max_memory_mib).",
                    cache::bytes);
            if (background) {
                cache.startSweeping(timer);
                if (!sts) {
                    // StsCache's sweep deletes expired store rows of both kinds; without it:
                    timer.scheduleWithFixedDelay(() -> store.deleteExpired(
                            System.currentTimeMillis()), 0, 10, TimeUnit.MINUTES);
                }
            }
            resolver = new DanePrecedence(cache, decision, resolver);
            daneCache = Optional.of(cache);
        }
        if (background) {
            log.info("policies mta_sts={} dane={} dnssec={} store={} shared={} "
                    + "strict_testing={} {}", sts ? "on" : "off", dane ? "on" : "off",
                    config.dane().dnssec().name().toLowerCase(Locale.ROOT), store.where(),
                    shared.map(SharedCache::server).orElse("none"),
                    config.mtaSts().strictTesting(), tlsrpt.why());
        }
        return new PolicyEngine(withOverrides(config, resolver, metrics), stsCache, stsResolver,
                daneCache, daneResolver, Optional.of(store), ownsStore, http, timer, rate,
                validation, shared, servers);
    }

    /**
     * Fleet mode's shared cache, connecting in the background. Its lease lasts as long as a
     * resolution may: the DNS queries before the fetch, the connection and the fetch.
     */
    private static SharedCache sharedCache(DaemonConfig config, DaemonConfig.Shared s,
                                           Metrics metrics) {
        Duration lease = config.dns().timeout().multipliedBy(2L * config.dns().attempts())
                .plus(config.mtaSts().connectTimeout()).plus(config.mtaSts().fetchTimeout());
        SharedCache cache;
        try {
            cache = SharedCache.start(new SharedCache.Settings(s.uri(), s.username(),
                    s.passwordFile(), s.caFile(), FleetKey.read(s.keyFile()), s.timeout(),
                    lease), System::currentTimeMillis);
        } catch (IOException e) {
            // The loader checked these files; one changed since.
            throw new UncheckedIOException("cache.shared: " + e.getMessage(), e);
        }
        metrics.gauge("tlspolicyd_shared_cache_up", "1 while the fleet's shared cache server "
                + "answers; 0: this relay answers from its own tiers (alert if it lasts).",
                cache::upGauge);
        metrics.counter("tlspolicyd_shared_cache_hits_total", "Entries found in the shared "
                + "cache (work another relay did).", cache::hits);
        metrics.counter("tlspolicyd_shared_cache_misses_total", "Entries looked for in the "
                + "shared cache and not found there.", cache::misses);
        metrics.counter("tlspolicyd_shared_cache_rejected_total", "Shared cache entries "
                + "ignored because their MAC did not match (tampering, or another fleet key; "
                + "alert on any).", cache::rejected);
        metrics.counter("tlspolicyd_shared_cache_errors_total", "Shared cache commands that "
                + "failed or timed out.", cache::errors);
        metrics.counter("tlspolicyd_shared_cache_writes_total", "Entries this relay wrote to "
                + "the shared cache.", cache::writes);
        metrics.counter("tlspolicyd_shared_cache_lease_waits_total", "Fetches left to another "
                + "relay holding the domain's lease.", cache::leasesWaited);
        return cache;
    }

    /** The operator's overrides in front of {@code resolver}, counted in {@code metrics}. */
    private static PolicyResolver withOverrides(DaemonConfig config, PolicyResolver resolver,
                                                Metrics metrics) {
        OverrideResolver o = new OverrideResolver(config.overrides(), resolver,
                System::currentTimeMillis);
        metrics.counter("tlspolicyd_override_answers_total", "Answers given from an override "
                + "(config overrides:) instead of DANE and MTA-STS.", o::answers);
        return config.overrides().isEmpty() ? resolver : o;
    }

    /**
     * The outbound socket budgets {@code [dns, https]}: what the file descriptor limit leaves
     * once the configured incoming connections and a reserve are counted (see {@link
     * SocketBudget}), three quarters for DNS queries (a DANE lookup asks many), the rest for
     * policy fetches. A limit too low for max_connections is an ERROR at start.
     */
    private static SocketBudget[] socketBudgets(DaemonConfig config, boolean log,
                                                Metrics metrics) {
        long fdLimit = SocketBudget.fdLimit();
        int connections = config.limits().maxConnections();
        int outbound = SocketBudget.outboundFor(fdLimit, connections);
        int dns = Math.max(4, outbound * 3 / 4);
        SocketBudget[] b = {new SocketBudget("dns", dns),
            new SocketBudget("https", Math.max(4, outbound - dns))};
        if (log) {
            if (fdLimit - connections < 2L * outbound) {
                PolicyEngine.log.error("sockets fd_limit={} max_connections={} outbound={}: "
                        + "the file descriptor limit leaves too little beside max_connections; "
                        + "raise it (systemd LimitNOFILE=) or lower socketmap.max_connections",
                        fdLimit, connections, outbound);
            } else {
                PolicyEngine.log.info("sockets fd_limit={} max_connections={} outbound_dns={} "
                        + "outbound_https={}", fdLimit, connections, b[0].size(), b[1].size());
            }
        }
        for (SocketBudget s : b) {
            String help = "Outbound sockets (DNS queries, policy fetches) open, and work "
                    + "waiting for one, by kind; the budget is in the start-up log.";
            metrics.gauge("tlspolicyd_outbound_sockets{kind=\"" + s.name()
                    + "\",state=\"in_use\"}", help, s::inUse);
            metrics.gauge("tlspolicyd_outbound_sockets{kind=\"" + s.name()
                    + "\",state=\"waiting\"}", help, s::waiting);
        }
        return b;
    }

    /**
     * The DNS client DANE trusts (RFC 7672 §2.1): one that validates from the configured trust
     * anchors, or, with {@code dane.dnssec: resolver}, one that trusts the AD bit of resolvers
     * that must all be on loopback (an AD bit that crossed a network proves nothing).
     */
    public static DnsClient daneDnsClient(DaemonConfig config) throws ConfigException {
        return daneDnsClient(config, servers(config.dns()),
                config.dane().dnssec() == DaemonConfig.Dnssec.VALIDATE ? trustAnchors(config)
                        : "", SocketBudget.unlimited("dns"));
    }

    /** The client of {@link #daneDnsClient(DaemonConfig)} with the trust anchors already read. */
    private static DnsClient daneDnsClient(DaemonConfig config, DnsServers servers,
                                           String anchors, SocketBudget sockets)
            throws ConfigException {
        DaemonConfig.Dns dns = config.dns();
        if (config.dane().dnssec() == DaemonConfig.Dnssec.RESOLVER) {
            for (InetSocketAddress server : servers.addresses()) {
                if (!server.getAddress().isLoopbackAddress()) {
                    throw new ConfigException("config key dane.dnssec is resolver, which trusts "
                            + "the AD bit of the resolvers, but " + server.getAddress()
                            .getHostAddress() + (dns.servers().isEmpty()
                            ? " (from /etc/resolv.conf)" : " (dns.servers)")
                            + " is not on loopback, so its AD bit could be forged on the way: "
                            + "run a validating resolver such as unbound on 127.0.0.1 and list "
                            + "it in dns.servers, or set dane.dnssec: validate");
                }
            }
            return new DnsClient(servers, dns.timeout(), dns.attempts(), Optional.empty(),
                    sockets);
        }
        try {
            return new DnsClient(servers, dns.timeout(), dns.attempts(), Optional.of(anchors),
                    sockets);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("config key dane.trust_anchor_file: " + e.getMessage());
        }
    }

    /** The trust anchors text: {@code dane.trust_anchor_file}, else the root KSKs shipped. */
    private static String trustAnchors(DaemonConfig config) throws ConfigException {
        Optional<Path> file = config.dane().trustAnchorFile();
        try {
            return file.isPresent() ? Files.readString(file.get(), StandardCharsets.US_ASCII)
                    : rootAnchors();
        } catch (IOException e) {
            throw new ConfigException("config key dane.trust_anchor_file: cannot read "
                    + file.map(Object::toString).orElse("") + ": " + e.getMessage());
        }
    }

    /**
     * The check that in-process validation works at all (see {@link ValidationCheck}), started
     * now; empty when the trust anchors name no zone (then the check cannot be made).
     */
    private static Optional<ValidationCheck> checkValidation(String anchors, DnsClient dns,
                                                             ScheduledExecutorService timer,
                                                             Runnable onChange) {
        Name zone;
        try {
            zone = anchorZone(anchors);
        } catch (IOException e) {
            log.warn("dane dnssec=validate check=skipped: trust anchors unreadable: {}",
                    e.getMessage());
            return Optional.empty();
        }
        ValidationCheck check = new ValidationCheck(zone, dns, timer, s -> onChange.run());
        check.start();
        return Optional.of(check);
    }

    /** The owner of the first record of trust anchor text, e.g. the root. */
    static Name anchorZone(String anchors) throws IOException {
        // Anchor files rarely give TTLs, which dnsjava's master file reader requires.
        try (Master m = new Master(new ByteArrayInputStream(("$TTL 0\n" + anchors)
                .getBytes(StandardCharsets.US_ASCII)), Name.root)) {
            org.xbill.DNS.Record first = m.nextRecord();
            if (first == null) {
                throw new IOException("no trust anchor records");
            }
            return first.getName();
        }
    }

    /** The root zone's trust anchors shipped with the daemon. */
    public static String rootAnchors() throws IOException {
        try (InputStream in = DnsClient.class.getResourceAsStream("root-anchors.ds")) {
            if (in == null) {
                throw new IOException("embedded root-anchors.ds missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** The TLS context for policy hosts: the JVM's trust plus {@code mta_sts.extra_ca_file}. */
    public static SslContext policyHostTls(DaemonConfig config) throws ConfigException {
        try {
            return PolicyHostTrust.context(config.mtaSts().extraCaFile());
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException("config key mta_sts.extra_ca_file: cannot read "
                    + config.mtaSts().extraCaFile().map(Object::toString).orElse("")
                    + ": " + e.getMessage());
        }
    }

    /** The MTA-STS resolver of the configuration, fetching with {@code tls}. */
    public static StsResolver stsResolver(DaemonConfig config, SslContext tls,
                                          EventLoopGroup http) {
        return stsResolver(config, servers(config.dns()), tls, http,
                SocketBudget.unlimited("dns"), SocketBudget.unlimited("https"),
                ResolutionRate.unlimited());
    }

    private static StsResolver stsResolver(DaemonConfig config, DnsServers servers,
                                           SslContext tls, EventLoopGroup http,
                                           SocketBudget dnsSockets, SocketBudget httpsSockets,
                                           ResolutionRate rate) {
        DaemonConfig.Dns dns = config.dns();
        return new StsResolver(new DnsClient(servers, dns.timeout(), dns.attempts(),
                Optional.empty(), dnsSockets), new PolicyFetcher(tls,
                config.mtaSts().connectTimeout(), config.mtaSts().fetchTimeout(), HTTPS_PORT,
                http, httpsSockets, config.mtaSts().allowPrivateAddresses()), rate);
    }

    /**
     * The event loop of policy fetches: one thread, as fetches are rare (a policy host about
     * once a day) and none of them blocks it.
     */
    public static EventLoopGroup fetchLoop() {
        EventLoopGroup loop = new NioEventLoopGroup(1, named("policy-fetch"));
        // Its thread now, not at the first fetch: BackgroundPriority lowers it before a burst.
        loop.next().execute(() -> { });
        return loop;
    }

    /** The DNS client of the configuration: its servers, else those of /etc/resolv.conf. */
    public static DnsClient dnsClient(DaemonConfig.Dns dns) {
        return new DnsClient(servers(dns), dns.timeout(), dns.attempts(), Optional.empty(),
                SocketBudget.unlimited("dns"));
    }

    /**
     * The servers {@code dns} names: {@code dns.servers}, else /etc/resolv.conf's nameservers
     * as they are now (read again on each call: a reload notices a changed resolv.conf).
     */
    public static DnsServers servers(DaemonConfig.Dns dns) {
        if (!dns.servers().isEmpty()) {
            return new DnsServers(dns.servers(), "dns.servers");
        }
        ResolverConfig.refresh();
        List<InetSocketAddress> servers = ResolverConfig.getCurrentConfig().servers();
        if (servers.isEmpty()) {
            log.warn("no nameserver configured or in /etc/resolv.conf; using 127.0.0.1:53");
            return new DnsServers(List.of(new InetSocketAddress("127.0.0.1", 53)),
                    "the default (no nameserver in /etc/resolv.conf)");
        }
        return new DnsServers(servers, "/etc/resolv.conf");
    }

    private static ThreadFactory named(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** The DNS servers this engine asks, read when it started. */
    public DnsServers servers() {
        return servers;
    }

    public PolicyResolver resolver() {
        return resolver;
    }

    /** The policies the TLS-RPT sender reports under (map {@code tlsrpt}), from the same caches. */
    public PolicyResolver reportResolver() {
        return new ReportPolicyResolver(daneCache, stsCache);
    }

    /** The DNSSEC self-check's state; empty when none runs (DANE off, or dnssec: resolver). */
    public Optional<ValidationCheck.State> validation() {
        return validation.map(ValidationCheck::state);
    }

    /** The policy store, when a policy kind is on. */
    public Optional<PolicyStore> store() {
        return store;
    }

    public Optional<StsCache> stsCache() {
        return stsCache;
    }

    /**
     * What stands in the way of right answers now, for /health: DNSSEC validation that fails,
     * the cache file's problems; and what was wrong at start (notices).
     */
    public Health health() {
        List<String> problems = new ArrayList<>();
        validation.flatMap(ValidationCheck::problem).ifPresent(problems::add);
        store.ifPresent(s -> problems.addAll(s.problems()));
        return new Health(problems, store.flatMap(PolicyStore::notice).stream().toList());
    }

    public Optional<StsResolver> stsResolver() {
        return stsResolver;
    }

    public Optional<DaneCache> daneCache() {
        return daneCache;
    }

    public Optional<DaneResolver> daneResolver() {
        return daneResolver;
    }

    @Override
    public void close() {
        validation.ifPresent(ValidationCheck::close);
        rate.close();
        stsCache.ifPresent(StsCache::close);
        daneCache.ifPresent(DaneCache::close);
        shared.ifPresent(SharedCache::close);
        if (timer != null) {
            timer.shutdownNow();
        }
        if (http != null) {
            http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        if (ownsStore) {
            store.ifPresent(PolicyStore::close);
        }
    }
}
