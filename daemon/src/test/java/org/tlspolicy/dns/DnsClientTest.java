package org.tlspolicy.dns;

import org.junit.jupiter.api.AfterAll;
import org.tlspolicy.testworld.KnotServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Set;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DnsClient against a real authoritative server (knotd) on loopback. */
@Timeout(60)
class DnsClientTest {

    @TempDir
    static Path dir;

    private static KnotServer knot;
    private static final String BIG = "x".repeat(250);

    @BeforeAll
    static void startKnot() throws Exception {
        Map<String, String> zones = new LinkedHashMap<>();
        zones.put("test.", """
                $ORIGIN test.
                $TTL 300
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 300
                @ NS ns.test.
                ns A 127.0.0.1
                _mta-sts.sts TXT "v=STSv1; id=abc;"
                split TXT "v=STSv1; " "id=split;"
                alias CNAME _mta-sts.sts
                alias2 CNAME alias
                outside CNAME _mta-sts.other.test2.
                loop1 CNAME loop2
                loop2 CNAME loop1
                big TXT %s
                both A 127.0.0.1
                both A 127.0.0.3
                both AAAA ::1
                v6only AAAA ::1
                cnamed CNAME both
                """.formatted(("\"" + BIG + "\" ").repeat(12)));
        zones.put("test2.", """
                $ORIGIN test2.
                $TTL 300
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 300
                @ NS ns.test.
                _mta-sts.other TXT "v=STSv1; id=other;"
                """);
        // A zone whose file does not load: knotd answers SERVFAIL for it.
        zones.put("broken.", "this is not a zone file\n");
        knot = KnotServer.start(dir, zones);
    }

    @AfterAll
    static void stopKnot() throws Exception {
        knot.close();
    }

    private static DnsClient client() {
        return new DnsClient(List.of(knot.address()), Duration.ofSeconds(2), 2);
    }

    private static DnsResult txt(String name) throws Exception {
        return client().lookup(Name.fromString(name), Type.TXT).get();
    }

    private static List<String> strings(DnsResult r) {
        return assertInstanceOf(DnsResult.Answer.class, r).records().stream()
                .map(rec -> String.join("", ((TXTRecord) rec).getStrings())).toList();
    }

    @Test
    void answersWithTheRecords() throws Exception {
        DnsResult r = txt("_mta-sts.sts.test.");
        assertEquals(List.of("v=STSv1; id=abc;"), strings(r));
        assertFalse(((DnsResult.Answer) r).authenticated(), "knot does not vouch for us");
    }

    @Test
    void answersCompleteOnOneThreadOfTheClientsNotOnANewThreadEach() throws Exception {
        // On two cores the common ForkJoinPool, dnsjava's default, would make CompletableFuture
        // start a thread per answer; on more, answers would land in that shared pool.
        DnsClient client = client();
        client.lookup(Name.fromString("_mta-sts.sts.test."), Type.TXT).get(); // its thread
        long started = ManagementFactory.getThreadMXBean().getTotalStartedThreadCount();
        Set<String> threads = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            threads.add(client.lookup(Name.fromString("_mta-sts.sts.test."), Type.TXT)
                    .thenApply(r -> Thread.currentThread().getName()).get());
        }
        long more = ManagementFactory.getThreadMXBean().getTotalStartedThreadCount() - started;
        assertTrue(more < 5, more + " threads started for 50 lookups");
        threads.remove("main"); // thenApply on an answer that came first runs here
        assertEquals(Set.of("dns-completion"), threads);
    }

    @Test
    void keepsTheCharacterStringsOfOneRecordSoTheyCanBeJoined() throws Exception {
        assertEquals(List.of("v=STSv1; id=split;"), strings(txt("split.test.")));
    }

    @Test
    void retriesOverTcpWhenTheUdpAnswerIsTruncated() throws Exception {
        // 12 strings of 250 bytes: over any UDP payload size, so only TCP delivers it whole.
        assertEquals(List.of(BIG.repeat(12)), strings(txt("big.test.")));
    }

    private static List<String> addresses(String host) throws Exception {
        DnsResult r = client().addresses(Name.fromString(host)).get();
        return assertInstanceOf(DnsResult.Answer.class, r).records().stream()
                .map(rec -> rec.rdataToString()).toList();
    }

    @Test
    void addressesAreTheARecordsThenTheAaaaRecords() throws Exception {
        List<String> both = addresses("both.test.");
        assertEquals(3, both.size(), both.toString());
        assertEquals(List.of("127.0.0.1", "127.0.0.3"), both.subList(0, 2).stream().sorted()
                .toList());
        assertEquals("0:0:0:0:0:0:0:1", both.get(2));
        assertEquals(List.of("0:0:0:0:0:0:0:1"), addresses("v6only.test."));
        assertEquals(both.stream().sorted().toList(),
                addresses("cnamed.test.").stream().sorted().toList());
    }

    @Test
    void addressesOfAMissingNameAreNxDomainAndOfAnErrorTheFailure() throws Exception {
        assertInstanceOf(DnsResult.NxDomain.class,
                client().addresses(Name.fromString("nope.test.")).get());
        assertInstanceOf(DnsResult.NoData.class,
                client().addresses(Name.fromString("_mta-sts.sts.test.")).get());
        assertInstanceOf(DnsResult.Failure.class,
                client().addresses(Name.fromString("x.broken.")).get());
    }

    @Test
    void distinguishesNoDataFromNxDomain() throws Exception {
        assertInstanceOf(DnsResult.NoData.class, txt("ns.test."));
        assertInstanceOf(DnsResult.NxDomain.class, txt("nope.test."));
    }

    @Test
    void followsCnameChainsInsideAndAcrossResponses() throws Exception {
        assertEquals(List.of("v=STSv1; id=abc;"), strings(txt("alias.test.")));
        assertEquals(List.of("v=STSv1; id=abc;"), strings(txt("alias2.test.")));
        // Another zone: the authoritative answer holds only the CNAME; the client asks again.
        assertEquals(List.of("v=STSv1; id=other;"), strings(txt("outside.test.")));
    }

    @Test
    void aCnameLoopIsAFailure() throws Exception {
        DnsResult r = txt("loop1.test.");
        assertTrue(assertInstanceOf(DnsResult.Failure.class, r).reason().startsWith("CNAME loop"),
                r.toString());
    }

    @Test
    void serverErrorsAreFailuresNamingTheRcode() throws Exception {
        DnsResult servfail = txt("x.broken.");
        assertTrue(assertInstanceOf(DnsResult.Failure.class, servfail).reason()
                .startsWith("rcode SERVFAIL"), servfail.toString());
        DnsResult refused = txt("example.org.");
        assertTrue(assertInstanceOf(DnsResult.Failure.class, refused).reason()
                .startsWith("rcode REFUSED"), refused.toString());
    }

    @Test
    void aSilentServerIsATimeoutAndTheNextServerIsTried() throws Exception {
        // A bound UDP socket that never answers: the one fault knotd cannot be made to show.
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            InetSocketAddress dead = new InetSocketAddress("127.0.0.1", silent.getLocalPort());
            DnsResult r = new DnsClient(List.of(dead), Duration.ofMillis(300), 1)
                    .lookup(Name.fromString("_mta-sts.sts.test."), Type.TXT).get();
            assertInstanceOf(DnsResult.Timeout.class, r, r.toString());
            DnsResult fallback = new DnsClient(List.of(dead, knot.address()),
                    Duration.ofMillis(300), 1)
                    .lookup(Name.fromString("_mta-sts.sts.test."), Type.TXT).get();
            assertEquals(List.of("v=STSv1; id=abc;"), strings(fallback));
        }
    }
}
