package org.tlspolicy.mtasts;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PolicyFetcher against real HTTPS policy hosts on loopback with certificates from a test CA,
 * well-behaved and hostile, on the TLS provider the daemon uses (BoringSSL); {@link
 * PolicyFetcherJdkTlsTest} runs every test again on the JDK's, the fallback.
 */
@Timeout(60)
class PolicyFetcherTest {

    static final String POLICY = "version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 86400\n";

    @TempDir
    static Path dir;

    static TestCa ca;
    static EventLoopGroup http;
    static final List<InetAddress> LOOPBACK = List.of(InetAddress.getLoopbackAddress());

    @BeforeAll
    static void ca() throws Exception {
        ca = TestCa.create("tlspolicy test CA");
        http = new NioEventLoopGroup(1); // per class: the JDK TLS subclass runs after this one
    }

    @AfterAll
    static void stop() {
        http.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** The provider under test. */
    SslProvider provider() {
        return PolicyHostTrust.provider();
    }

    PolicyFetcher fetcher(int port, Duration timeout) throws Exception {
        return new PolicyFetcher(PolicyHostTrust.context(Optional.of(ca.writePem(
                dir.resolve("ca.pem"))), provider()), Duration.ofSeconds(2), timeout, port, http,
                true);
    }

    /**
     * Issue 34, finding 4: a policy host that resolves to loopback (or private space) is not
     * connected to unless the test-world setting allows it; it sees no connection at all.
     */
    @Test
    void aPolicyHostOnLoopbackIsNotConnectedToByDefault() throws Exception {
        try (PolicyHost host = PolicyHost.start(ca.issue("mta-sts.good.test"),
                PolicyHost.ok("version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 86400\n"))) {
            PolicyFetcher strict = new PolicyFetcher(PolicyHostTrust.context(Optional.of(
                    ca.writePem(dir.resolve("ca.pem"))), provider()), Duration.ofSeconds(2),
                    Duration.ofSeconds(5), host.port(), http, false);
            for (String a : List.of("127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "169.254.1.1",
                    "100.64.0.1", "::ffff:127.0.0.1", "fd00::1")) {
                PolicyFetch f = strict.fetch("good.test", List.of(InetAddress.getByName(a)))
                        .get(30, TimeUnit.SECONDS);
                failed(f, StsFailure.FETCH_ERROR, "resolves to no global unicast address");
            }
            assertEquals(0, host.requests(), "no connection reached the policy host");
            assertTrue(fetcher(host.port(), Duration.ofSeconds(5)).fetch("good.test", LOOPBACK)
                    .get(30, TimeUnit.SECONDS) instanceof PolicyFetch.Fetched, "allowed: fetched");
        }
    }

    /** The package's platforms (Linux x86-64, ARM64) get BoringSSL; if not, say why. */
    @Test
    void boringSslLoadsHere() {
        assertEquals(SslProvider.OPENSSL, PolicyHostTrust.provider(),
                String.valueOf(OpenSsl.unavailabilityCause()));
        assertTrue(PolicyHostTrust.describeProvider().startsWith("BoringSSL"),
                PolicyHostTrust.describeProvider());
    }

    PolicyFetch fetch(String domain, TestCa.ServerIdentity identity, PolicyHost.Responder r,
                      Duration timeout) throws Exception {
        try (PolicyHost host = PolicyHost.start(identity, r)) {
            return fetcher(host.port(), timeout).fetch(domain, LOOPBACK).get(30, TimeUnit.SECONDS);
        }
    }

    PolicyFetch fetch(String domain, PolicyHost.Responder r) throws Exception {
        return fetch(domain, ca.issue("mta-sts." + domain), r, Duration.ofSeconds(5));
    }

    static PolicyFetch.Failed failed(PolicyFetch f, StsFailure expected, String reasonPart) {
        PolicyFetch.Failed failed = assertInstanceOf(PolicyFetch.Failed.class, f);
        assertEquals(expected, failed.failure(), failed.reason());
        assertTrue(failed.reason().contains(reasonPart),
                "reason '" + failed.reason() + "' should contain '" + reasonPart + "'");
        return failed;
    }

    @Test
    void fetchesAGoodPolicyWithSniAndTheWellKnownPath() throws Exception {
        try (PolicyHost host = PolicyHost.start(ca.issue("mta-sts.good.test"),
                PolicyHost.ok(POLICY))) {
            PolicyFetch f = fetcher(host.port(), Duration.ofSeconds(5)).fetch("good.test", LOOPBACK)
                    .get(30, TimeUnit.SECONDS);
            PolicyFetch.Fetched ok = assertInstanceOf(PolicyFetch.Fetched.class, f);
            assertEquals(POLICY, ok.body());
            assertEquals("GET /.well-known/mta-sts.txt HTTP/1.1", host.requestLines().get(0));
        }
    }

    @Test
    void mediaTypeParametersAndCaseAreAccepted() throws Exception {
        PolicyFetch f = fetch("good.test", PolicyHost.withType("Text/Plain; charset=utf-8", POLICY));
        assertEquals(POLICY, assertInstanceOf(PolicyFetch.Fetched.class, f).body());
    }

    @Test
    void redirectIsNotFollowed() throws Exception {
        failed(fetch("redirect.test", PolicyHost.redirect(301,
                "https://mta-sts.good.test/.well-known/mta-sts.txt")),
                StsFailure.FETCH_ERROR, "redirect");
        failed(fetch("redirect.test", PolicyHost.redirect(307, "/elsewhere")),
                StsFailure.FETCH_ERROR, "307");
    }

    @Test
    void tenMegabyteBodyIsCutOffAt64KiB() throws Exception {
        failed(fetch("huge.test", PolicyHost.huge(10L << 20)), StsFailure.FETCH_ERROR,
                "over 65536 bytes");
    }

    @Test
    void bodyOfExactly64KiBIsRead() throws Exception {
        String padding = "x-pad: " + "a".repeat(60) + "\n";
        StringBuilder b = new StringBuilder(POLICY);
        while (b.length() + padding.length() <= PolicyFetcher.MAX_BODY_BYTES) {
            b.append(padding);
        }
        b.append("x".repeat(PolicyFetcher.MAX_BODY_BYTES - b.length() - 1)).append('\n');
        assertEquals(PolicyFetcher.MAX_BODY_BYTES, b.length());
        PolicyFetch f = fetch("huge.test", PolicyHost.ok(b.toString()));
        assertEquals(b.toString(), assertInstanceOf(PolicyFetch.Fetched.class, f).body());
    }

    @Test
    void bodyThatDripsIsCutOffByTheTotalTimeout() throws Exception {
        long start = System.nanoTime();
        PolicyFetch f = fetch("drip.test", ca.issue("mta-sts.drip.test"),
                PolicyHost.drip(POLICY, Duration.ofSeconds(1)), Duration.ofSeconds(2));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        failed(f, StsFailure.FETCH_ERROR, "no complete response within 2000 ms");
        // The failure arrives at the deadline, not after the 60-odd seconds of the drip.
        assertTrue(ms < 10_000, "took " + ms + " ms");
    }

    @Test
    void wrongContentTypeIsRefused() throws Exception {
        failed(fetch("type.test", PolicyHost.withType("text/html", POLICY)),
                StsFailure.FETCH_ERROR, "text/html");
    }

    @Test
    void expiredCertificateIsAWebPkiFailure() throws Exception {
        Instant now = Instant.now();
        failed(fetch("expired.test", ca.issue("mta-sts.expired.test",
                        now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1))),
                PolicyHost.ok(POLICY), Duration.ofSeconds(5)),
                StsFailure.WEBPKI_INVALID, "certificate");
    }

    @Test
    void selfSignedCertificateIsAWebPkiFailure() throws Exception {
        failed(fetch("self.test", TestCa.selfSigned("mta-sts.self.test"),
                PolicyHost.ok(POLICY), Duration.ofSeconds(5)),
                StsFailure.WEBPKI_INVALID, "certificate");
    }

    @Test
    void certificateForAnotherNameIsAWebPkiFailure() throws Exception {
        failed(fetch("wrongname.test", ca.issue("mta-sts.good.test"), PolicyHost.ok(POLICY),
                Duration.ofSeconds(5)), StsFailure.WEBPKI_INVALID, "certificate");
    }

    @Test
    void certificateOfAnUntrustedCaIsAWebPkiFailure() throws Exception {
        TestCa other = TestCa.create("someone else");
        failed(fetch("good.test", other.issue("mta-sts.good.test"), PolicyHost.ok(POLICY),
                Duration.ofSeconds(5)), StsFailure.WEBPKI_INVALID, "certificate");
    }

    @Test
    void withoutTheExtraCaTheTestCaIsNotTrusted() throws Exception {
        try (PolicyHost host = PolicyHost.start(ca.issue("mta-sts.good.test"),
                PolicyHost.ok(POLICY))) {
            PolicyFetcher jvmTrustOnly = new PolicyFetcher(PolicyHostTrust.context(
                    Optional.empty(), provider()),
                    Duration.ofSeconds(2), Duration.ofSeconds(5), host.port(), http, true);
            failed(jvmTrustOnly.fetch("good.test", LOOPBACK).get(30, TimeUnit.SECONDS),
                    StsFailure.WEBPKI_INVALID, "certificate");
        }
    }

    @Test
    void notFoundAndServerErrorAreFetchErrors() throws Exception {
        failed(fetch("notfound.test", PolicyHost.status(404)), StsFailure.FETCH_ERROR, "HTTP 404");
        failed(fetch("error.test", PolicyHost.status(500)), StsFailure.FETCH_ERROR, "HTTP 500");
    }

    @Test
    void connectionResetIsAFetchError() throws Exception {
        failed(fetch("reset.test", PolicyHost.reset()), StsFailure.FETCH_ERROR, "");
    }

    /** A port that was just a policy host's and is closed now. */
    int closedPort() throws Exception {
        try (PolicyHost host = PolicyHost.start(ca.issue("mta-sts.closed.test"),
                PolicyHost.ok(POLICY))) {
            return host.port();
        }
    }

    @Test
    void closedPortIsAFetchError() throws Exception {
        failed(fetcher(closedPort(), Duration.ofSeconds(5)).fetch("closed.test", LOOPBACK).get(30, TimeUnit.SECONDS),
                StsFailure.FETCH_ERROR, "connect");
    }

    @Test
    void withoutAnAddressNothingIsTried() throws Exception {
        failed(fetcher(443, Duration.ofSeconds(5)).fetch("nowhere.test", List.of())
                .get(30, TimeUnit.SECONDS), StsFailure.FETCH_ERROR, "no address");
    }

    @Test
    void addressesAreTriedInTurnUntilOneConnects() throws Exception {
        try (PolicyHost host = PolicyHost.start(ca.issue("mta-sts.good.test"),
                PolicyHost.ok(POLICY))) {
            // The host listens on 127.0.0.1 only: 127.0.0.2 refuses the connection.
            List<InetAddress> addresses = List.of(InetAddress.getByName("127.0.0.2"),
                    InetAddress.getByName("127.0.0.1"));
            PolicyFetch f = fetcher(host.port(), Duration.ofSeconds(5))
                    .fetch("good.test", addresses).get(30, TimeUnit.SECONDS);
            assertEquals(POLICY, assertInstanceOf(PolicyFetch.Fetched.class, f).body());
            assertEquals(1, host.requestLines().size());
        }
    }

    @Test
    void everyRefusedAddressIsNamedInTheFailure() throws Exception {
        int port = closedPort();
        List<InetAddress> addresses = List.of(InetAddress.getByName("127.0.0.2"),
                InetAddress.getByName("127.0.0.1"));
        failed(fetcher(port, Duration.ofSeconds(5)).fetch("closed.test", addresses)
                .get(30, TimeUnit.SECONDS), StsFailure.FETCH_ERROR, "1 other address(es)");
    }

    @Test
    void phasesAddUpToAtMostTheWholeFetch() throws Exception {
        try (PolicyHost host = PolicyHost.start(ca.issue("mta-sts.good.test"),
                PolicyHost.delayed(Duration.ofMillis(300), PolicyHost.ok(POLICY)))) {
            PolicyFetch f = fetcher(host.port(), Duration.ofSeconds(5))
                    .fetch("good.test", LOOPBACK).get(30, TimeUnit.SECONDS);
            PolicyFetch.Phases p = assertInstanceOf(PolicyFetch.Fetched.class, f).phases();
            assertTrue(p.response().toMillis() >= 300, "the response waited: " + p);
            assertTrue(p.connect().plus(p.tls()).plus(p.response()).compareTo(f.elapsed()) <= 0,
                    p + " within " + f.elapsed());
            assertTrue(!p.tls().isZero(), "a handshake took time: " + p);
        }
    }

    @Test
    void uriIsHttpsOnTheMtaStsHost() throws Exception {
        assertEquals("https://mta-sts.example.com/.well-known/mta-sts.txt",
                fetcher(443, Duration.ofSeconds(1)).uri("example.com").toString());
    }
}
