package org.tlspolicy.dns;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.ZoneSigner;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DnsClient validating DNSSEC in-process (dnsjava's ValidatingResolver) against zones signed by
 * the test (ZoneSigner) and served by a real knotd: secure, insecure and bogus answers.
 */
@Timeout(60)
class DnssecValidationTest {

    @TempDir
    static Path dir;

    static KnotServer knot;
    static ZoneSigner.Key good;
    static ZoneSigner.Key expired;

    static String zone(String origin) {
        return """
                $ORIGIN %s
                $TTL 300
                @ SOA ns.%s hostmaster.%s 1 3600 900 604800 300
                @ NS ns.%s
                ns A 127.0.0.1
                @ MX 10 mx1.%s
                mx1 A 127.0.0.1
                """.formatted(origin, origin, origin, origin, origin);
    }

    @BeforeAll
    static void world() throws Exception {
        Instant now = Instant.now();
        good = ZoneSigner.newKey("signed.");
        expired = ZoneSigner.newKey("expired.");
        Map<String, String> zones = new LinkedHashMap<>();
        zones.put("signed.", ZoneSigner.sign(zone("signed."), "signed.", good,
                now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(7))));
        // RFC 4035 §5.3.1: a signature past its expiration does not validate.
        zones.put("expired.", ZoneSigner.sign(zone("expired."), "expired.", expired,
                now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1))));
        zones.put("plain.", zone("plain."));
        knot = KnotServer.start(dir, zones);
    }

    @AfterAll
    static void stop() throws Exception {
        knot.close();
    }

    static DnsClient validating() {
        return new DnsClient(List.of(knot.address()), Duration.ofSeconds(2), 2,
                Optional.of(good.trustAnchor() + expired.trustAnchor()));
    }

    static DnsResult mx(DnsClient client, String name) throws Exception {
        return client.lookup(Name.fromString(name), Type.MX).get();
    }

    @Test
    void aSignedAnswerUnderATrustAnchorIsSecure() throws Exception {
        DnsResult.Answer a = assertInstanceOf(DnsResult.Answer.class, mx(validating(), "signed."));
        assertTrue(a.authenticated());
        assertEquals("mx1.signed.", ((MXRecord) a.records().get(0)).getTarget().toString());
    }

    @Test
    void provenNonExistenceIsSecure() throws Exception {
        assertTrue(assertInstanceOf(DnsResult.NxDomain.class,
                mx(validating(), "nope.signed.")).authenticated());
        assertTrue(assertInstanceOf(DnsResult.NoData.class,
                mx(validating(), "mx1.signed.")).authenticated());
    }

    @Test
    void expiredSignaturesAreBogus() throws Exception {
        DnsResult.Bogus b = assertInstanceOf(DnsResult.Bogus.class, mx(validating(), "expired."));
        assertTrue(b.reason().startsWith("expired. MX"), b.reason());
    }

    @Test
    void anUnsignedZoneOutsideTheTrustAnchorsIsInsecure() throws Exception {
        assertFalse(assertInstanceOf(DnsResult.Answer.class, mx(validating(), "plain."))
                .authenticated());
    }

    @Test
    void withoutValidationTheSameAnswersAreNotAuthenticatedAndNotBogus() throws Exception {
        // knotd is authoritative and sets no AD bit: only the in-process validator decides.
        DnsClient plain = new DnsClient(List.of(knot.address()), Duration.ofSeconds(2), 2);
        assertFalse(assertInstanceOf(DnsResult.Answer.class, mx(plain, "signed."))
                .authenticated());
        assertInstanceOf(DnsResult.Answer.class, mx(plain, "expired."));
    }
}
