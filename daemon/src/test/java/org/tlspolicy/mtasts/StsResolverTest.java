package org.tlspolicy.mtasts;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.testworld.DnsGate;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;
import org.xbill.DNS.Name;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * StsResolver against knotd and a real HTTPS policy host: the policy host's address comes from
 * the configured DNS server, and its lookup does not wait for the TXT answer.
 */
@Timeout(60)
class StsResolverTest {

    static final String POLICY = "version: STSv1\nmode: enforce\nmx: mx.par.test\nmax_age: 86400\n";

    @TempDir
    static Path dir;

    static KnotServer knot;
    static TestCa ca;
    static EventLoopGroup http = new NioEventLoopGroup(1);

    @BeforeAll
    static void world() throws Exception {
        ca = TestCa.create("resolver test CA");
        knot = KnotServer.start(dir, Map.of("test.", """
                $ORIGIN test.
                $TTL 60
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 60
                @ NS ns.test.
                ns A 127.0.0.1
                _mta-sts.par TXT "v=STSv1; id=1;"
                mta-sts.par A 127.0.0.1
                _mta-sts.noaddr TXT "v=STSv1; id=1;"
                _mta-sts.v6 TXT "v=STSv1; id=1;"
                mta-sts.v6 AAAA ::1
                """));
    }

    @AfterAll
    static void stop() throws Exception {
        knot.close();
        http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    StsResolver resolver(InetSocketAddress dns, int port) throws Exception {
        return new StsResolver(new DnsClient(List.of(dns), Duration.ofSeconds(5), 1),
                new PolicyFetcher(PolicyHostTrust.context(Optional.of(ca.writePem(
                        dir.resolve("ca.pem")))), Duration.ofSeconds(2), Duration.ofSeconds(5),
                        port, http, true));
    }

    @Test
    void policyHostAddressIsAskedForBeforeTheTxtAnswerArrives() throws Exception {
        // The TXT answer is held until the policy host's A query arrives, for at most 3 s: a
        // resolver that looked the address up only after the TXT answer would still succeed,
        // but the answer would have been released by the timeout.
        try (PolicyHost host = PolicyHost.start(ca.issue("mta-sts.par.test"),
                PolicyHost.ok(POLICY));
             DnsGate gate = DnsGate.start(knot.address(), Name.fromString("_mta-sts.par.test."),
                     Name.fromString("mta-sts.par.test."), Duration.ofSeconds(3))) {
            StsLookup lookup = resolver(gate.address(), host.port()).resolve("par.test")
                    .get(30, TimeUnit.SECONDS);
            StsLookup.Found found = assertInstanceOf(StsLookup.Found.class, lookup);
            assertEquals(POLICY, found.body());
            assertTrue(gate.releasedByQuery(), "the A query came while the TXT answer was held");
        }
    }

    @Test
    void policyHostWithoutAddressIsAFetchError() throws Exception {
        StsLookup lookup = resolver(knot.address(), 443).resolve("noaddr.test")
                .get(30, TimeUnit.SECONDS);
        StsLookup.Failed failed = assertInstanceOf(StsLookup.Failed.class, lookup);
        assertEquals(StsFailure.FETCH_ERROR, failed.failure());
        assertTrue(failed.reason().contains("mta-sts.noaddr.test: NXDOMAIN"), failed.reason());
    }

    @Test
    void anIpv6OnlyPolicyHostIsFetchedOverIpv6() throws Exception {
        // PolicyHost listens on 127.0.0.1 only, so ::1 is refused: the attempt is what counts.
        StsLookup lookup = resolver(knot.address(), 1).resolve("v6.test").get(30, TimeUnit.SECONDS);
        StsLookup.Failed failed = assertInstanceOf(StsLookup.Failed.class, lookup);
        assertTrue(failed.reason().contains("connect failed") && failed.reason().contains("[0:0:0:0:0:0:0:1]:1"),
                failed.reason());
    }

    @Test
    void withoutMtaStsNoPolicyHostIsContacted() throws Exception {
        try (PolicyHost host = PolicyHost.start(ca.issue("mta-sts.par.test"),
                PolicyHost.ok(POLICY))) {
            StsLookup lookup = resolver(knot.address(), host.port()).resolve("absent.test")
                    .get(30, TimeUnit.SECONDS);
            assertInstanceOf(StsLookup.Absent.class, lookup);
            assertEquals(0, host.requestLines().size());
        }
    }
}
