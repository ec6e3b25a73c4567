package org.tlspolicy.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.cache.StoredDane;
import org.tlspolicy.cache.StoredPolicy;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.daemon.PolicyEngine;
import org.tlspolicy.dane.DaneDecision;
import org.tlspolicy.dane.DaneLookup;
import org.tlspolicy.dane.DaneLookupCodec;
import org.tlspolicy.dane.DanePrecedence;
import org.tlspolicy.dane.DaneResolver;
import org.tlspolicy.dane.HostTlsa;
import org.tlspolicy.dane.Tlsa;
import org.tlspolicy.mtasts.PolicyFetch;
import org.tlspolicy.mtasts.PolicyFetcher;
import org.tlspolicy.mtasts.StsCache;
import org.tlspolicy.mtasts.StsDecision;
import org.tlspolicy.mtasts.StsLookup;
import org.tlspolicy.mtasts.StsResolver;
import org.tlspolicy.mtasts.StsState;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.DomainOverride;
import org.tlspolicy.policy.NoPolicyResolver;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyTable;
import org.tlspolicy.socketmap.SocketmapReply;
import org.tlspolicy.tlsrpt.TlsrptMode;
import org.tlspolicy.log.JournalLog;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.tlspolicy.mtasts.StsLookup.Timings.ms;

/**
 * {@code tlspolicyd query KEY}: decides what the daemon would answer Postfix for KEY, in this
 * process (no running daemon needed), and explains why: the policy stored by the daemon (read
 * only), or a fresh resolution from the network: DANE's MX set and per-host TLSA records with
 * each answer's DNSSEC status, then (when DANE does not decide) MTA-STS's TXT record, policy
 * text and a timing breakdown. {@code --no-cache} always resolves afresh.
 */
@Command(name = "query", description = "Explain the policy decision for a next-hop key.")
final class QueryCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @Parameters(paramLabel = "KEY", description = "A next-hop key as Postfix sends it, "
            + "e.g. example.com or [mx.example.com]:25.")
    String key;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = Main.CONFIG_HELP)
    Path configFile;

    @Option(names = "--json", description = "Print the decision as one JSON object.")
    boolean json;

    @Option(names = "--no-cache", description = "Ignore the stored policy; resolve afresh.")
    boolean noCache;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Everything the explanation shows, in print order. */
    private final Map<String, Object> facts = new LinkedHashMap<>();

    @Override
    public Integer call() throws IOException {
        Path file = Main.configFile(configFile);
        Optional<DaemonConfig> loaded = Main.config(file, spec);
        if (loaded.isEmpty()) {
            return Main.EXIT_CONFIG;
        }
        DaemonConfig config = loaded.get();
        // Warnings only: the explanation is the output, the decision log line would repeat it.
        JournalLog.install("warn");
        long start = System.nanoTime();
        facts.put("config", Main.describeConfig(file));
        facts.put("key", key);
        NextHop nextHop = NextHop.parse(key);
        SocketmapReply reply;
        if (!(nextHop instanceof NextHop.Domain domain)) {
            reply = new PolicyTable(config.mapName(), new NoPolicyResolver()).decide(key).join()
                    .reply();
            facts.put("next_hop", "not a policy domain");
            facts.put("reason", ((NextHop.NoLookup) nextHop).reason());
        } else {
            facts.put("domain", domain.name());
            PolicyOutcome outcome;
            try {
                outcome = explain(config, domain.name());
            } catch (ConfigException e) {
                spec.commandLine().getErr().println("tlspolicyd: " + e.getMessage());
                return Main.EXIT_CONFIG;
            }
            reply = PolicyTable.reply(outcome);
            if (outcome instanceof PolicyOutcome.Apply apply) {
                facts.put("source", apply.source());
            }
            facts.put("reason", outcome.reason());
        }
        facts.put("status", reply.status());
        facts.put("reply", reply.payload());
        facts.put("total_ms", ms(Duration.ofNanos(System.nanoTime() - start)));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            printJson(out);
        } else {
            printText(out);
        }
        out.flush();
        boolean decided = reply instanceof SocketmapReply.Ok || reply instanceof SocketmapReply.NotFound;
        return decided ? Main.EXIT_OK : Main.EXIT_DEFERRED;
    }

    /** DANE first (RFC 7672), then MTA-STS when DANE has nothing to say, as the daemon does. */
    private PolicyOutcome explain(DaemonConfig config, String domain) throws ConfigException {
        TlsrptMode tlsrpt = TlsrptMode.of(config.tlsrpt(), config.postfix());
        facts.put("tlsrpt", tlsrpt.why());
        for (DomainOverride o : config.overrides()) {
            if (!o.domain().equals(domain)) {
                continue;
            }
            boolean active = o.activeAt(System.currentTimeMillis());
            facts.put("override", "policy=\"" + o.policyText() + "\" reason=\"" + o.reason()
                    + "\"" + o.expires().map(d -> " expires=" + d).orElse("")
                    + (active ? "" : " (expired: ignored)"));
            if (active) {
                facts.put("dane", "not consulted: overridden");
                facts.put("mta_sts", "not consulted: overridden");
                return o.outcome();
            }
        }
        if (!config.dane().enabled()) {
            facts.put("dane", "disabled by configuration");
            return explainSts(config, domain, tlsrpt);
        }
        DaneDecision decision = DaneDecision.forPostfix();
        DaneLookup dane = explainDane(config, domain);
        PolicyOutcome outcome = decision.decide(domain, dane);
        if (outcome != null) {
            facts.put("mta_sts", "not consulted: DANE decides");
            return outcome;
        }
        return DanePrecedence.combine(decision, domain, dane, explainSts(config, domain, tlsrpt));
    }

    /** The DANE result: stored by the daemon and still valid, else resolved now. */
    private DaneLookup explainDane(DaemonConfig config, String domain) throws ConfigException {
        facts.put("dnssec", config.dane().dnssec() == DaemonConfig.Dnssec.RESOLVER
                ? "resolver (the AD bit of dns.servers, on loopback)"
                : "validate (in-process, trust anchors "
                + config.dane().trustAnchorFile().map(Path::toString).orElse("root KSKs") + ")");
        long now = System.currentTimeMillis();
        Optional<StoredDane> stored = read(config, s -> s.getDane(domain).join());
        DaneLookup lookup = null;
        if (stored.isPresent() && stored.get().validUntil() > now) {
            facts.put("dane_cache", "result stored, valid for another "
                    + age(stored.get().validUntil() - now));
            if (!noCache) {
                lookup = DaneLookupCodec.parse(stored.get().result()).orElse(null);
            }
        }
        if (lookup == null) {
            long start = System.nanoTime();
            lookup = new DaneResolver(PolicyEngine.daneDnsClient(config)).resolve(domain).join();
            facts.put("dns_dane_ms", ms(Duration.ofNanos(System.nanoTime() - start))
                    + " (MX, then addresses and TLSA of every MX host at once)");
        }
        facts.put("mx", lookup.mx() + (lookup instanceof DaneLookup.NullMx ? ": null MX" : "")
                + (lookup.hosts().isEmpty() ? "" : ": " + lookup.hosts().stream()
                .map(HostTlsa::host).toList()));
        List<String> tlsa = new ArrayList<>();
        for (HostTlsa h : lookup.hosts()) {
            tlsa.add(h.host() + ": " + h.status().name().toLowerCase(Locale.ROOT)
                    + (h.base().isEmpty() ? "" : " at " + h.base()) + " (" + h.detail() + ")");
            for (Tlsa t : h.records()) {
                tlsa.add("  " + t + (t.usable() ? "" : "  (unusable for SMTP)"));
            }
        }
        if (!tlsa.isEmpty()) {
            facts.put("tlsa", tlsa);
        }
        if (lookup instanceof DaneLookup.NotApplicable na) {
            facts.put("dane", "does not apply: " + na.reason());
        } else if (lookup instanceof DaneLookup.Failed f) {
            facts.put("dane", (f.bogus() ? "bogus: " : "indeterminate: ") + f.reason());
        }
        return lookup;
    }

    private PolicyOutcome explainSts(DaemonConfig config, String domain, TlsrptMode tlsrpt)
            throws ConfigException {
        if (!config.mtaSts().enabled()) {
            facts.put("mta_sts", "disabled by configuration");
            return new PolicyOutcome.NoPolicy("MTA-STS disabled");
        }
        StsDecision decision = new StsDecision(config.mtaSts().strictTesting(), tlsrpt);
        Optional<StoredPolicy> stored = storedPolicy(config, domain);
        long now = System.currentTimeMillis();
        if (stored.isPresent() && stored.get().expiresAt() > now) {
            StoredPolicy s = stored.get();
            facts.put("cache", "policy id=" + s.id() + " fetched " + age(now - s.fetchedAt())
                    + " ago, expires in " + age(s.expiresAt() - now) + ", refresh due in "
                    + age(Math.max(0, s.refreshAt() - now)));
            if (!noCache) {
                Optional<StsState.Policy> state = StsCache.fromStore(s);
                if (state.isPresent()) {
                    facts.put("policy", s.body());
                    return decision.decide(domain, state.get());
                }
            }
        } else if (stored.isPresent()) {
            facts.put("cache", "expired policy id=" + stored.get().id());
        }
        return fresh(config, domain, decision);
    }

    private Optional<StoredPolicy> storedPolicy(DaemonConfig config, String domain) {
        if (config.cache().path().isEmpty()) {
            facts.put("cache", "memory only (cache.path is empty): nothing stored");
            return Optional.empty();
        }
        Path path = config.cache().path().get();
        if (!Files.isRegularFile(path)) {
            facts.put("cache", "no store at " + path);
            return Optional.empty();
        }
        Optional<StoredPolicy> p = read(config, s -> s.get(domain).join());
        facts.put("cache", p.isEmpty() ? "no entry in " + path : "entry in " + path);
        return p;
    }

    /** Something read from the daemon's store (read only), or empty if there is none. */
    private static <T> Optional<T> read(DaemonConfig config,
                                        Function<PolicyStore, Optional<T>> what) {
        Optional<PolicyStore> store = config.cache().path().flatMap(PolicyStore::openReadOnly);
        if (store.isEmpty()) {
            return Optional.empty();
        }
        try (PolicyStore s = store.get()) {
            return what.apply(s);
        }
    }

    /**
     * A fresh resolution, step by step, with timings: the same lookups, in the same order and
     * overlap, as the daemon makes (the policy host's addresses alongside the TXT record).
     */
    private PolicyOutcome fresh(DaemonConfig config, String domain, StsDecision decision)
            throws ConfigException {
        EventLoopGroup http = PolicyEngine.fetchLoop();
        try {
            SslContext tls = PolicyEngine.policyHostTls(config);
            StsResolver resolver = PolicyEngine.stsResolver(config, tls, http);
            CompletableFuture<StsResolver.PolicyHost> host = resolver.policyHost(domain);
            StsResolver.Discovery d = resolver.discover(domain).join();
            facts.put("resolution", "fresh");
            facts.put("txt", d.texts().isEmpty() ? "(none) " + d.reason() : d.texts());
            facts.put("dns_txt_ms", ms(d.elapsed()));
            if (d.record() == null) {
                long until = System.currentTimeMillis();
                return decision.decide(domain, new StsState.NoPolicy(d.reason(), null, until));
            }
            StsResolver.PolicyHost h = host.join();
            facts.put("policy_host", PolicyFetcher.host(domain) + " " + (h.addresses().isEmpty()
                    ? h.problem() : h.addresses().stream().map(InetAddress::getHostAddress)
                    .toList()));
            facts.put("dns_address_ms", ms(h.elapsed()) + " (sent with the TXT query)");
            StsLookup lookup = resolver.fetch(domain, d.record(), d.elapsed(), host).join();
            PolicyFetch.Phases p = lookup.timings().phases();
            facts.put("https_fetch_ms", ms(lookup.timings().fetch()) + " (TCP connect "
                    + ms(p.connect()) + ", TLS handshake " + ms(p.tls()) + ", HTTP response "
                    + ms(p.response()) + ")");
            long now = System.currentTimeMillis();
            if (lookup instanceof StsLookup.Found found) {
                facts.put("policy", found.body());
                return decision.decide(domain, new StsState.Policy(found.record().id(),
                        found.body(), now, now + found.policy().maxAgeSeconds() * 1000, now, now,
                        now, ""));
            }
            StsLookup.Failed failed = (StsLookup.Failed) lookup;
            facts.put("policy_failure", failed.failure().resultType() + ": " + failed.reason());
            return decision.decide(domain, new StsState.NoPolicy(failed.reason(), failed.failure(),
                    now));
        } finally {
            http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private static String age(long millis) {
        Duration d = Duration.ofMillis(millis);
        if (d.toDays() > 0) {
            return d.toDays() + "d" + d.toHoursPart() + "h";
        }
        if (d.toHours() > 0) {
            return d.toHours() + "h" + d.toMinutesPart() + "m";
        }
        return d.toMinutes() + "m" + d.toSecondsPart() + "s";
    }

    private void printText(PrintWriter out) {
        for (Map.Entry<String, Object> e : facts.entrySet()) {
            String label = (e.getKey() + ":" + " ".repeat(16)).substring(0, 16);
            Object v = e.getValue();
            List<String> lines = new ArrayList<>();
            if (v instanceof List<?> list) {
                list.forEach(x -> lines.add(String.valueOf(x)));
            } else {
                lines.addAll(String.valueOf(v).lines().toList());
            }
            if (lines.isEmpty()) {
                lines.add("");
            }
            out.println(label + lines.get(0));
            for (String line : lines.subList(1, lines.size())) {
                out.println(" ".repeat(16) + line);
            }
        }
    }

    private void printJson(PrintWriter out) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            for (Map.Entry<String, Object> e : facts.entrySet()) {
                if (e.getValue() instanceof List<?> list) {
                    g.writeArrayFieldStart(e.getKey());
                    for (Object x : list) {
                        g.writeString(String.valueOf(x));
                    }
                    g.writeEndArray();
                } else {
                    g.writeStringField(e.getKey(), String.valueOf(e.getValue()));
                }
            }
            g.writeEndObject();
        }
        out.println();
    }
}
