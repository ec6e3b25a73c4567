package org.tlspolicy.daemon;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.mtasts.PolicyFetcher;
import org.tlspolicy.mtasts.PolicyHostTrust;
import org.tlspolicy.mtasts.StsCache;
import org.tlspolicy.mtasts.StsDecision;
import org.tlspolicy.mtasts.StsPolicyResolver;
import org.tlspolicy.mtasts.StsResolver;
import org.tlspolicy.policy.NoPolicyResolver;
import org.tlspolicy.policy.PolicyResolver;
import org.tlspolicy.tlsrpt.TlsrptMode;
import org.xbill.DNS.ResolverConfig;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The resolution machinery a configuration asks for, with what it owns: DNS client, policy
 * fetcher, store, cache, and their threads. Issue #5 adds DANE here.
 */
public final class PolicyEngine implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyEngine.class);

    /** RFC 8461 §3.3: the policy is fetched with HTTPS, on its default port. */
    private static final int HTTPS_PORT = 443;

    private final PolicyResolver resolver;
    private final Optional<StsCache> stsCache;
    private final Optional<StsResolver> stsResolver;
    private final Optional<PolicyStore> store;
    private final EventLoopGroup http;
    private final ScheduledExecutorService timer;

    private PolicyEngine(PolicyResolver resolver, Optional<StsCache> stsCache,
                         Optional<StsResolver> stsResolver, Optional<PolicyStore> store,
                         EventLoopGroup http, ScheduledExecutorService timer) {
        this.resolver = resolver;
        this.stsCache = stsCache;
        this.stsResolver = stsResolver;
        this.store = store;
        this.http = http;
        this.timer = timer;
    }

    /**
     * Builds the engine for {@code config}. {@code background} starts the refresher (the daemon);
     * without it nothing runs until asked (the query command).
     */
    public static PolicyEngine start(DaemonConfig config, Optional<PolicyStore> existingStore,
                                     boolean background) throws ConfigException {
        if (!config.mtaSts().enabled()) {
            return new PolicyEngine(new NoPolicyResolver(), Optional.empty(), Optional.empty(),
                    Optional.empty(), null, null);
        }
        EventLoopGroup http = fetchLoop();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                named("policy-timer"));
        StsResolver sts;
        try {
            sts = stsResolver(config, policyHostTls(config), http);
        } catch (ConfigException e) {
            http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            timer.shutdownNow();
            throw e;
        }
        PolicyStore store = existingStore.orElseGet(() -> PolicyStore.open(config.cache().path()));
        DaemonConfig.Cache c = config.cache();
        StsCache cache = new StsCache(sts, store, new StsCache.Settings(c.maxEntries(),
                c.negativeTtl(), c.failureTtl(), c.checkInterval(), c.refreshRate()),
                System::currentTimeMillis);
        TlsrptMode tlsrpt = TlsrptMode.of(config.tlsrpt());
        if (background) {
            cache.startRefreshing(timer);
            log.info("mta-sts enabled store={} strict_testing={} {}", store.where(),
                    config.mtaSts().strictTesting(), tlsrpt.why());
        }
        return new PolicyEngine(new StsPolicyResolver(cache, new StsDecision(
                config.mtaSts().strictTesting(), tlsrpt)), Optional.of(cache), Optional.of(sts),
                Optional.of(store), http, timer);
    }

    /** The TLS context for policy hosts: the JVM's trust plus {@code mta_sts.extra_ca_file}. */
    public static SSLContext policyHostTls(DaemonConfig config) throws ConfigException {
        try {
            return PolicyHostTrust.context(config.mtaSts().extraCaFile());
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException("config key mta_sts.extra_ca_file: cannot read "
                    + config.mtaSts().extraCaFile().map(Object::toString).orElse("")
                    + ": " + e.getMessage());
        }
    }

    /** The MTA-STS resolver of the configuration, fetching with {@code tls}. */
    public static StsResolver stsResolver(DaemonConfig config, SSLContext tls,
                                          EventLoopGroup http) {
        return new StsResolver(dnsClient(config.dns()), new PolicyFetcher(tls,
                config.mtaSts().connectTimeout(), config.mtaSts().fetchTimeout(), HTTPS_PORT,
                http));
    }

    /**
     * The event loop of policy fetches: one thread, as fetches are rare (a policy host about
     * once a day) and none of them blocks it.
     */
    public static EventLoopGroup fetchLoop() {
        return new NioEventLoopGroup(1, named("policy-fetch"));
    }

    /** The DNS client of the configuration: its servers, else those of /etc/resolv.conf. */
    public static DnsClient dnsClient(DaemonConfig.Dns dns) {
        List<InetSocketAddress> servers = dns.servers();
        if (servers.isEmpty()) {
            ResolverConfig.refresh();
            servers = ResolverConfig.getCurrentConfig().servers();
        }
        if (servers.isEmpty()) {
            servers = List.of(new InetSocketAddress("127.0.0.1", 53));
            log.warn("no nameserver configured or in /etc/resolv.conf; using 127.0.0.1:53");
        }
        return new DnsClient(servers, dns.timeout(), dns.attempts());
    }

    private static ThreadFactory named(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public PolicyResolver resolver() {
        return resolver;
    }

    public Optional<StsCache> stsCache() {
        return stsCache;
    }

    public Optional<StsResolver> stsResolver() {
        return stsResolver;
    }

    @Override
    public void close() {
        stsCache.ifPresent(StsCache::close);
        if (timer != null) {
            timer.shutdownNow();
        }
        if (http != null) {
            http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        store.ifPresent(PolicyStore::close);
    }
}
