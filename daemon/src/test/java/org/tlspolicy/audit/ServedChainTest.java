package org.tlspolicy.audit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tlspolicy.mtasts.PolicyHostTrust;
import org.tlspolicy.testworld.TestCa;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ServedChain} judges chains made by a real CA (bcpkix) against the JVM's anchors plus
 * that CA, as {@code mta_sts.extra_ca_file} adds it: each problem gets the RFC 8460 result
 * type senders report, and a chain with several problems gets all of them.
 */
class ServedChainTest {

    @org.junit.jupiter.api.io.TempDir
    static Path dir;

    static TestCa ca;
    static TestCa intermediate;
    static ServedChain judge;
    static final Instant NOW = Instant.now();

    @BeforeAll
    static void trust() throws Exception {
        ca = TestCa.create("served chain test CA");
        intermediate = ca.intermediate("served chain test intermediate");
        judge = new ServedChain(PolicyHostTrust.trustManager(Optional.of(ca.writePem(
                dir.resolve("ca.pem")))));
    }

    static List<ServedChain.Problem> judge(TestCa.ServerIdentity id, String name) {
        return judge.judge(List.of(id.chain()), name, NOW);
    }

    static List<String> results(List<ServedChain.Problem> problems) {
        return problems.stream().map(ServedChain.Problem::result).toList();
    }

    @Test
    void aCompleteChainForTheNameHasNoProblem() throws Exception {
        assertEquals(List.of(), judge(ca.issue("mx.example.test"), "mx.example.test"));
        assertEquals(List.of(), judge(intermediate.issue("mx.example.test"), "mx.example.test"));
    }

    @Test
    void aServerSendingOnlyItsLeafIsMissingTheIntermediate() throws Exception {
        List<ServedChain.Problem> p = judge(intermediate.issue("mx.example.test").leafOnly(),
                "mx.example.test");
        assertEquals(List.of("certificate-not-trusted"), results(p));
        assertTrue(p.get(0).why().contains("intermediate is missing"), p.get(0).why());
        // The root's own leaf needs nothing more: the root is the anchor.
        assertEquals(List.of(), judge(ca.issue("mx.example.test").leafOnly(), "mx.example.test"));
    }

    @Test
    void selfSignedAndUnknownCasAreNotTrusted() throws Exception {
        List<ServedChain.Problem> self = judge(TestCa.selfSigned("mx.example.test"),
                "mx.example.test");
        assertEquals(List.of("certificate-not-trusted"), results(self));
        assertTrue(self.get(0).why().contains("self-signed"));
        List<ServedChain.Problem> unknown = judge(TestCa.create("elsewhere").issue(
                "mx.example.test"), "mx.example.test");
        assertEquals(List.of("certificate-not-trusted"), results(unknown));
        assertTrue(unknown.get(0).why().contains("no trusted root"), unknown.get(0).why());
    }

    @Test
    void namesFollowTheWildcardRuleOfOneLabel() throws Exception {
        TestCa.ServerIdentity wildcard = ca.issue("*.example.test");
        assertEquals(List.of(), judge(wildcard, "mx.example.test"));
        assertEquals(List.of("certificate-host-mismatch"), results(judge(wildcard,
                "a.mx.example.test")));
        assertEquals(List.of("certificate-host-mismatch"), results(judge(wildcard,
                "example.test")));
        List<ServedChain.Problem> other = judge(ca.issue("wrong-name.invalid"),
                "mx.example.test");
        assertEquals(List.of("certificate-host-mismatch"), results(other));
        assertTrue(other.get(0).why().contains("wrong-name.invalid"));
        assertEquals(List.of(), judge(ca.issue(List.of("a.example.test", "MX.Example.Test")),
                "mx.example.test"));
    }

    @Test
    void anExpiredLeafIsLeftToTheExpiryCheckAndItsOtherProblemsStillCount() throws Exception {
        TestCa.ServerIdentity id = ca.issue(List.of("wrong-name.invalid"),
                NOW.minus(Duration.ofDays(100)), NOW.minus(Duration.ofDays(3)));
        List<ServedChain.Problem> p = judge(id, "mx.example.test");
        assertEquals(List.of("certificate-host-mismatch"), results(p));
        X509Certificate leaf = id.chain()[0];
        assertEquals(-3, ServedChain.daysLeft(leaf, NOW));
        // A valid leaf under an intermediate that expired: the chain's problem.
        TestCa.ServerIdentity late = intermediate.issue("mx.example.test");
        List<ServedChain.Problem> later = judge.judge(List.of(late.chain()), "mx.example.test",
                NOW.plus(Duration.ofDays(380)));
        assertTrue(results(later).contains("certificate-expired"), later.toString());
        assertTrue(later.stream().anyMatch(x -> x.why().startsWith("the CA certificate CN=served "
                + "chain test intermediate expired on")), later.toString());
    }

    @Test
    void daysLeftCountWholeDays() throws Exception {
        X509Certificate leaf = ca.issue(List.of("mx.example.test"), NOW.minus(Duration.ofDays(1)),
                NOW.plus(Duration.ofDays(10)).plus(Duration.ofHours(3))).chain()[0];
        assertEquals(10, ServedChain.daysLeft(leaf, NOW));
        assertEquals(0, ServedChain.daysLeft(leaf, NOW.plus(Duration.ofDays(10))));
        assertEquals(-1, ServedChain.daysLeft(leaf, NOW.plus(Duration.ofDays(11))));
    }

    @Test
    void thresholdsMustDescend() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new ServedChain.Thresholds(7, 14, 30));
        assertEquals(30, ServedChain.Thresholds.DEFAULT.warn());
    }
}
