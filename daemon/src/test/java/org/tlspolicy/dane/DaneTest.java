package org.tlspolicy.dane;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.daemon.PolicyEngine;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.mtasts.PolicyFetcher;
import org.tlspolicy.mtasts.PolicyHostTrust;
import org.tlspolicy.mtasts.StsCache;
import org.tlspolicy.mtasts.StsDecision;
import org.tlspolicy.mtasts.StsPolicyResolver;
import org.tlspolicy.mtasts.StsResolver;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyResolver;
import org.tlspolicy.policy.PolicyTable;
import org.tlspolicy.socketmap.SocketmapReply;
import org.tlspolicy.testworld.DaneWorld;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.tlsrpt.TlsrptMode;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DANE decided beside MTA-STS against the real DNSSEC world of {@link DaneWorld} (knotd with
 * signed zones, unbound validating or only iterating, an HTTPS policy host), each case in both
 * trust modes: {@code dane.dnssec: validate} (dnsjava validates what the iterating unbound
 * passes on) and {@code dane.dnssec: resolver} (the validating unbound's AD bit).
 */
@Timeout(120)
class DaneTest {

    @TempDir
    static Path dir;

    static DaneWorld world;
    static EventLoopGroup http = new NioEventLoopGroup(1);

    @BeforeAll
    static void start() throws Exception {
        world = DaneWorld.start(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        world.close();
        http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** The configuration of a trust mode, through the loader as an operator would write it. */
    static DaemonConfig config(DaemonConfig.Dnssec mode, InetSocketAddress server)
            throws ConfigException {
        return ConfigLoader.parse("""
                dns:
                  servers: [127.0.0.1:%d]
                  timeout: 2s
                  attempts: 1
                dane:
                  dnssec: %s
                  trust_anchor_file: %s
                cache:
                  path: ""
                """.formatted(server.getPort(), mode.name().toLowerCase(),
                world.trustAnchorFile()));
    }

    static InetSocketAddress resolverFor(DaemonConfig.Dnssec mode) {
        return mode == DaemonConfig.Dnssec.RESOLVER ? world.validatingResolver()
                : world.iteratingResolver();
    }

    /** DANE in front of MTA-STS, as PolicyEngine composes them, the policy host on its port. */
    static PolicyResolver resolver(DaemonConfig.Dnssec mode, InetSocketAddress dnsServer,
                                   TlsrptMode tlsrpt) throws Exception {
        Caches c = caches(mode, dnsServer, tlsrpt);
        return new DanePrecedence(c.dane(), c.decision(), new StsPolicyResolver(c.sts(),
                new StsDecision(false, tlsrpt)));
    }

    private record Caches(DaneCache dane, StsCache sts, DaneDecision decision) {
    }

    private static Caches caches(DaemonConfig.Dnssec mode, InetSocketAddress dnsServer,
                                 TlsrptMode tlsrpt) throws Exception {
        DaemonConfig config = config(mode, dnsServer);
        PolicyStore store = PolicyStore.open(Optional.empty());
        StsResolver sts = new StsResolver(new DnsClient(List.of(world.iteratingResolver()),
                Duration.ofSeconds(2), 1), new PolicyFetcher(PolicyHostTrust.context(
                Optional.of(world.ca().writePem(dir.resolve("ca.pem")))), Duration.ofSeconds(2),
                Duration.ofSeconds(5), world.policyHost().port(), http, true));
        StsCache stsCache = new StsCache(sts, store, new StsCache.Settings(1000, 1000 * 4096L,
                Duration.ofMinutes(5), Duration.ofMinutes(1), Duration.ofHours(1), 5),
                System::currentTimeMillis);
        DaneDecision decision = DaneDecision.forPostfix();
        DaneCache dane = new DaneCache(new DaneResolver(PolicyEngine.daneDnsClient(config)),
                decision, store, new DaneCache.Settings(1000, 1000 * 4096L, Duration.ofMinutes(1),
                Duration.ofHours(1), Duration.ofMinutes(1)), System::currentTimeMillis);
        return new Caches(dane, stsCache, decision);
    }

    /**
     * The TLS-RPT sender's view (map "tlsrpt"): from the caches Postfix's decisions use, with
     * TLSRPT attributes although Postfix's replies (tlsrpt off) have none.
     */
    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void reportPoliciesCarryTheAttributesPostfixRepliesLack(DaemonConfig.Dnssec mode)
            throws Exception {
        Caches c = caches(mode, resolverFor(mode), TlsrptMode.OFF);
        PolicyResolver report = new org.tlspolicy.daemon.ReportPolicyResolver(
                Optional.of(c.dane()), Optional.of(c.sts()));
        String both = policy(report.resolve((NextHop.Domain) NextHop.parse("both.test"))
                .get(30, TimeUnit.SECONDS));
        assertEquals("dane-only policy_type=tlsa policy_domain=both.test "
                + "mx_host_pattern=mx.both.test { policy_string = 3 1 1 " + DaneWorld.HASH
                + " }", both);
        String sts = policy(report.resolve((NextHop.Domain) NextHop.parse("sts-only.test"))
                .get(30, TimeUnit.SECONDS));
        // DaneWorld.POLICY, line by line.
        assertEquals("secure match=mx.sts-only.test:mx.both.test:mx.insecure.test "
                + "servername=hostname policy_type=sts policy_domain=sts-only.test "
                + "mx_host_pattern=mx.sts-only.test mx_host_pattern=mx.both.test "
                + "mx_host_pattern=mx.insecure.test { policy_string = version: STSv1 } "
                + "{ policy_string = mode: enforce } { policy_string = mx: mx.sts-only.test } "
                + "{ policy_string = mx: mx.both.test } { policy_string = mx: mx.insecure.test } "
                + "{ policy_string = max_age: 86400 }", sts);
        assertInstanceOf(PolicyOutcome.NoPolicy.class, report.resolve(
                (NextHop.Domain) NextHop.parse("nullmx.test")).get(30, TimeUnit.SECONDS));
    }

    static PolicyOutcome outcome(DaemonConfig.Dnssec mode, String domain) throws Exception {
        return resolver(mode, resolverFor(mode), TlsrptMode.OFF)
                .resolve((NextHop.Domain) NextHop.parse(domain)).get(30, TimeUnit.SECONDS);
    }

    static String reply(DaemonConfig.Dnssec mode, String domain) throws Exception {
        SocketmapReply r = PolicyTable.reply(outcome(mode, domain));
        return r.payload();
    }

    static String policy(PolicyOutcome o) {
        return assertInstanceOf(PolicyOutcome.Apply.class, o, o::toString).policy().render();
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void everyMxWithUsableTlsaIsDaneOnly(DaemonConfig.Dnssec mode) throws Exception {
        PolicyOutcome o = outcome(mode, "dane-only.test");
        assertEquals("dane-only", policy(o));
        assertEquals("dane", ((PolicyOutcome.Apply) o).source());
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void someMxWithUsableTlsaIsDane(DaemonConfig.Dnssec mode) throws Exception {
        assertEquals("dane", policy(outcome(mode, "mixed.test")));
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void anInsecureDelegationLeavesItToMtaSts(DaemonConfig.Dnssec mode) throws Exception {
        // TLSA records are published there, but unsigned: worthless (RFC 7672 §2.2).
        PolicyOutcome o = outcome(mode, "insecure.test");
        assertEquals("mta-sts", ((PolicyOutcome.Apply) o).source());
        assertTrue(policy(o).startsWith("secure match=mx.sts-only.test:mx.both.test:"
                + "mx.insecure.test servername=hostname"), policy(o));
        assertTrue(o.reason().contains("no DANE: MX records insecure"), o.reason());
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void aSecureMxWithoutTlsaLeavesItToMtaSts(DaemonConfig.Dnssec mode) throws Exception {
        PolicyOutcome o = outcome(mode, "sts-only.test");
        assertTrue(policy(o).startsWith("secure match="), policy(o));
        assertTrue(o.reason().contains("no MX host has secure TLSA records"), o.reason());
    }

    /**
     * Issue 34, finding 2: DANE on one of two MX hosts and MTA-STS enforce covering both. dane
     * would leave the host without TLSA at may; the answer is dane-only, through the cache too
     * (the second lookup is answered from memory).
     */
    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void partialDaneUnderAnEnforcedPolicyIsDaneOnly(DaemonConfig.Dnssec mode) throws Exception {
        PolicyResolver r = resolver(mode, resolverFor(mode), TlsrptMode.OFF);
        NextHop.Domain partial = (NextHop.Domain) NextHop.parse("partial.test");
        PolicyOutcome o = r.resolve(partial).get(15, TimeUnit.SECONDS);
        assertEquals("dane-only", policy(o));
        assertTrue(o.reason().contains("MTA-STS enforce"), o.reason());
        assertEquals("dane-only", policy(r.known(partial)));
        // Without MTA-STS beside it, partial DANE stays dane.
        assertEquals("dane", policy(outcome(mode, "mixed.test")));
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void daneWinsOverMtaSts(DaemonConfig.Dnssec mode) throws Exception {
        PolicyOutcome o = outcome(mode, "both.test");
        assertEquals("dane-only", policy(o));
    }

    @Test
    void whenDaneDecidesTheReplyDoesNotWaitForMtaSts() throws Exception {
        // both.test publishes DANE and MTA-STS. Its policy host is held until the DANE answer
        // is in: the MTA-STS fetch has started (both resolutions start together) but the
        // reply is already there.
        CountDownLatch release = new CountDownLatch(1);
        world.policyHost().respondWith((socket, line) -> {
            release.await(20, TimeUnit.SECONDS);
            PolicyHost.ok(DaneWorld.POLICY).respond(socket, line);
        });
        try {
            int before = world.policyHost().requests();
            CompletableFuture<PolicyOutcome> o = resolver(DaemonConfig.Dnssec.VALIDATE,
                    world.iteratingResolver(), TlsrptMode.OFF)
                    .resolve((NextHop.Domain) NextHop.parse("both.test"));
            assertEquals("dane-only", policy(o.get(15, TimeUnit.SECONDS)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (world.policyHost().requests() == before && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(before + 1, world.policyHost().requests());
            assertEquals(1, release.getCount()); // the policy host has not answered yet
        } finally {
            release.countDown();
            world.policyHost().respondWith(PolicyHost.ok(DaneWorld.POLICY));
        }
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void expiredSignaturesDeferTheMail(DaemonConfig.Dnssec mode) throws Exception {
        PolicyOutcome.Defer d = assertInstanceOf(PolicyOutcome.Defer.class,
                outcome(mode, "bogus.test"));
        assertTrue(d.reason().startsWith("DNSSEC validation failed: MX bogus"), d.reason());
        assertEquals("TEMP DNSSEC", reply(mode, "bogus.test").substring(0, 11));
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void aBogusMxHostDefersTheMail(DaemonConfig.Dnssec mode) throws Exception {
        PolicyOutcome.Defer d = assertInstanceOf(PolicyOutcome.Defer.class,
                outcome(mode, "badhost.test"));
        assertTrue(d.reason().contains("mx.bogus.test: addresses bogus"), d.reason());
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void servfailDefersTheMail(DaemonConfig.Dnssec mode) throws Exception {
        PolicyOutcome.Defer d = assertInstanceOf(PolicyOutcome.Defer.class,
                outcome(mode, "servfail.invalid"));
        assertTrue(d.reason().startsWith("DNS lookup failed: MX lookup failed: rcode SERVFAIL"),
                d.reason());
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void aResolverThatDoesNotAnswerDefersTheMail(DaemonConfig.Dnssec mode) throws Exception {
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            PolicyOutcome o = resolver(mode, new InetSocketAddress("127.0.0.1",
                    silent.getLocalPort()), TlsrptMode.OFF)
                    .resolve((NextHop.Domain) NextHop.parse("dane-only.test"))
                    .get(30, TimeUnit.SECONDS);
            PolicyOutcome.Defer d = assertInstanceOf(PolicyOutcome.Defer.class, o);
            assertTrue(d.reason().startsWith("DNS lookup failed: MX lookup failed: timeout"),
                    d.reason());
        }
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void aNullMxHasNoPolicy(DaemonConfig.Dnssec mode) throws Exception {
        PolicyOutcome.NoPolicy n = assertInstanceOf(PolicyOutcome.NoPolicy.class,
                outcome(mode, "nullmx.test"));
        assertTrue(n.reason().startsWith("null MX"), n.reason());
        assertEquals("NOTFOUND ", reply(mode, "nullmx.test"));
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void cnamedMxHostsFindTlsaAtTheTargetThenAtTheAlias(DaemonConfig.Dnssec mode)
            throws Exception {
        // mail.cname → mx.provider has TLSA at the target, mail2.cname → mx2.provider at the
        // alias only (RFC 7672 §2.2.3): both usable, so dane-only.
        PolicyOutcome o = outcome(mode, "cname.test");
        assertEquals("dane-only", policy(o));
        assertTrue(o.reason().contains("mail.cname.test usable TLSA (1)"), o.reason());
        assertTrue(o.reason().contains("mail2.cname.test usable TLSA (1)"), o.reason());
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void tlsaWithOnlyPkixUsagesIsUnusableButStillRequiresTls(DaemonConfig.Dnssec mode)
            throws Exception {
        // RFC 7672 §2.2: unusable TLSA records still say the server does TLS. Postfix's dane
        // level uses mandatory unauthenticated TLS with such a host, whatever its own level.
        PolicyOutcome.Apply a = assertInstanceOf(PolicyOutcome.Apply.class,
                outcome(mode, "unusable.test"));
        assertEquals("dane", a.policy().render());
        assertTrue(a.reason().startsWith("TLSA records unusable, TLS still required: no DANE: "
                + "TLSA records unusable for SMTP"), a.reason());
    }

    @ParameterizedTest
    @EnumSource(DaemonConfig.Dnssec.class)
    void aDomainWithoutMxIsItsOwnHost(DaemonConfig.Dnssec mode) throws Exception {
        assertEquals("dane-only", policy(outcome(mode, "implicit.test")));
    }

    /**
     * Postfix 3.10 rejects {@code policy_type=tlsa} and {@code policy_failure=tlsa-invalid}
     * (it defers the mail: "client TLS configuration problem") and reports DANE from its own
     * TLSA lookup: with TLSRPT attributes on, DANE replies to Postfix carry none.
     */
    @Test
    void daneRepliesToPostfixCarryNoTlsrptAttributes() throws Exception {
        TlsrptMode on = new TlsrptMode(true, Optional.of("may"), "test");
        PolicyResolver r = resolver(DaemonConfig.Dnssec.VALIDATE, world.iteratingResolver(), on);
        assertEquals("dane-only", policy(r.resolve((NextHop.Domain) NextHop.parse(
                "dane-only.test")).get(30, TimeUnit.SECONDS)));
        assertEquals("dane", policy(r.resolve((NextHop.Domain) NextHop.parse("mixed.test"))
                .get(30, TimeUnit.SECONDS)));
        assertEquals("dane", policy(r.resolve((NextHop.Domain) NextHop.parse("unusable.test"))
                .get(30, TimeUnit.SECONDS)));
        // MTA-STS replies keep theirs (policy_type=sts is what Postfix reads).
        assertTrue(policy(r.resolve((NextHop.Domain) NextHop.parse("sts-only.test"))
                .get(30, TimeUnit.SECONDS)).contains(" policy_type=sts policy_domain="
                + "sts-only.test "));
    }

    /** The TLS-RPT sender's map names the TLSA records, and unusable ones as tlsa-invalid. */
    @Test
    void reportPoliciesNameTheTlsaRecords() throws Exception {
        Caches c = caches(DaemonConfig.Dnssec.VALIDATE, world.iteratingResolver(),
                TlsrptMode.OFF);
        PolicyResolver report = new org.tlspolicy.daemon.ReportPolicyResolver(
                Optional.of(c.dane()), Optional.of(c.sts()));
        String dane = policy(report.resolve((NextHop.Domain) NextHop.parse("dane-only.test"))
                .get(30, TimeUnit.SECONDS));
        assertEquals("dane-only policy_type=tlsa policy_domain=dane-only.test "
                + "mx_host_pattern=mx1.dane-only.test mx_host_pattern=mx2.dane-only.test "
                + "{ policy_string = 3 1 1 " + DaneWorld.HASH + " }", dane);
        String unusable = policy(report.resolve((NextHop.Domain) NextHop.parse(
                "unusable.test")).get(30, TimeUnit.SECONDS));
        assertEquals("dane policy_type=tlsa policy_domain=unusable.test "
                + "mx_host_pattern=mx.unusable.test { policy_string = 0 0 1 " + DaneWorld.HASH
                + " } { policy_string = 1 1 1 " + DaneWorld.HASH + " } "
                + "policy_failure=tlsa-invalid", unusable);
    }

    @Test
    void resolverModeRefusesAResolverOffLoopback() {
        ConfigException e = assertThrows(ConfigException.class, () ->
                PolicyEngine.daneDnsClient(ConfigLoader.parse("""
                        dns:
                          servers: [192.0.2.53]
                        dane:
                          dnssec: resolver
                        """)));
        assertTrue(e.getMessage().contains("192.0.2.53 (dns.servers) is not on loopback"),
                e.getMessage());
    }
}
