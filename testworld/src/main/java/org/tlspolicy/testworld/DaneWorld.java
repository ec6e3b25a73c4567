package org.tlspolicy.testworld;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A DNSSEC world for DANE tests, all on loopback: a signed zone {@code test.} (the only trust
 * anchor) served by knotd, with secure, insecure and bogus delegations below it, an HTTPS policy
 * host for the MTA-STS domains, and two unbound resolvers in front of knotd: one validating (for
 * {@code dane.dnssec: resolver}) and one only iterating (the upstream of {@code dane.dnssec:
 * validate}, which validates itself).
 *
 * <p>Names (all under {@code test.}): {@code dane-only} (every MX with TLSA 3 1 1), {@code mixed}
 * (one of two), {@code sts-only} (secure MX without TLSA, MTA-STS enforce), {@code both} (TLSA
 * and MTA-STS), {@code partial} (MX hosts {@code mx.both}, with TLSA, and {@code mx.sts-only}, without;
 * MTA-STS enforce covering both), {@code insecure} (an unsigned child zone with TLSA and MTA-STS), {@code bogus}
 * (a child whose signatures expired), {@code badhost} (secure MX pointing into it), {@code
 * nullmx}, {@code cname} (MX
 * hosts that are CNAMEs; TLSA at the target for one, at the alias for the other), {@code
 * unusable} (TLSA usages 0 and 1 only) and {@code implicit} (no MX, TLSA at the domain). And
 * {@code servfail.invalid}, which the resolvers send to knotd, which refuses it: SERVFAIL.
 */
public final class DaneWorld implements AutoCloseable {

    /** Any 32 bytes: the daemon decides on TLSA presence, Postfix matches certificates. */
    public static final String HASH =
            "8CB0F1B0A8D43B8F8B5DE4C1F1C3E2AB0C6C9D2E7F1A3B5C7D9E1F3A5B7C9D0E";

    public static final String POLICY = """
            version: STSv1
            mode: enforce
            mx: mx.sts-only.test
            mx: mx.both.test
            mx: mx.insecure.test
            max_age: 86400
            """;

    private final KnotServer knot;
    private final UnboundServer validating;
    private final UnboundServer iterating;
    private final PolicyHost policyHost;
    private final TestCa ca;
    private final Path anchorFile;

    private DaneWorld(KnotServer knot, UnboundServer validating, UnboundServer iterating,
                      PolicyHost policyHost, TestCa ca, Path anchorFile) {
        this.knot = knot;
        this.validating = validating;
        this.iterating = iterating;
        this.policyHost = policyHost;
        this.ca = ca;
        this.anchorFile = anchorFile;
    }

    public static DaneWorld start(Path dir) throws Exception {
        Instant now = Instant.now();
        Instant from = now.minus(Duration.ofDays(1));
        Instant until = now.plus(Duration.ofDays(7));
        ZoneSigner.Key parent = ZoneSigner.newKey("test.");
        ZoneSigner.Key bogus = ZoneSigner.newKey("bogus.test.");
        Map<String, String> zones = new LinkedHashMap<>();
        zones.put("test.", ZoneSigner.sign(parentZone(bogus.ds()), "test.", parent, from, until));
        zones.put("insecure.test.", child("insecure.test.", """
                @ MX 10 mx
                mx A 127.0.0.1
                _25._tcp.mx TLSA 3 1 1 %s
                _mta-sts TXT "v=STSv1; id=1;"
                mta-sts A 127.0.0.1
                """.formatted(HASH)));
        // RFC 4035 §5.3.1: signatures past their expiration do not validate.
        zones.put("bogus.test.", ZoneSigner.sign(child("bogus.test.", """
                @ MX 10 mx
                mx A 127.0.0.1
                _25._tcp.mx TLSA 3 1 1 %s
                """.formatted(HASH)), "bogus.test.", bogus, now.minus(Duration.ofDays(10)),
                now.minus(Duration.ofDays(1))));
        Path knotDir = Files.createDirectories(dir.resolve("knot"));
        KnotServer knot = KnotServer.start(knotDir, zones);
        String anchor = parent.ds();
        Path anchorFile = Files.writeString(dir.resolve("anchors.ds"), anchor);
        List<String> stubs = List.of("test.", "insecure.test.", "bogus.test.");
        UnboundServer validating = UnboundServer.validating(dir.resolve("unbound-v"),
                knot.address(), stubs, anchor, List.of("servfail.invalid."));
        UnboundServer iterating = UnboundServer.iterating(dir.resolve("unbound-i"),
                knot.address(), stubs, List.of("servfail.invalid."));
        TestCa ca = TestCa.create("DANE world CA");
        PolicyHost host = PolicyHost.start(ca.issue(List.of("mta-sts.sts-only.test",
                "mta-sts.both.test", "mta-sts.insecure.test", "mta-sts.partial.test")),
                PolicyHost.ok(POLICY));
        return new DaneWorld(knot, validating, iterating, host, ca, anchorFile);
    }

    private static String parentZone(String bogusDs) {
        return """
                $ORIGIN test.
                $TTL 300
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 300
                @ NS ns.test.
                ns A 127.0.0.1
                dane-only MX 10 mx1.dane-only
                dane-only MX 20 mx2.dane-only
                mx1.dane-only A 127.0.0.1
                mx2.dane-only A 127.0.0.1
                _25._tcp.mx1.dane-only TLSA 3 1 1 %1$s
                _25._tcp.mx2.dane-only TLSA 3 1 1 %1$s
                mixed MX 10 mx1.mixed
                mixed MX 20 mx2.mixed
                mx1.mixed A 127.0.0.1
                mx2.mixed A 127.0.0.1
                _25._tcp.mx1.mixed TLSA 3 1 1 %1$s
                sts-only MX 10 mx.sts-only
                mx.sts-only A 127.0.0.1
                _mta-sts.sts-only TXT "v=STSv1; id=1;"
                mta-sts.sts-only A 127.0.0.1
                both MX 10 mx.both
                mx.both A 127.0.0.1
                _25._tcp.mx.both TLSA 3 1 1 %1$s
                _mta-sts.both TXT "v=STSv1; id=1;"
                mta-sts.both A 127.0.0.1
                partial MX 10 mx.both
                partial MX 20 mx.sts-only
                _mta-sts.partial TXT "v=STSv1; id=1;"
                mta-sts.partial A 127.0.0.1
                nullmx MX 0 .
                cname MX 10 mail.cname
                cname MX 20 mail2.cname
                mail.cname CNAME mx.provider
                mail2.cname CNAME mx2.provider
                mx.provider A 127.0.0.1
                mx2.provider A 127.0.0.1
                _25._tcp.mx.provider TLSA 3 1 1 %1$s
                _25._tcp.mail2.cname TLSA 3 1 1 %1$s
                unusable MX 10 mx.unusable
                mx.unusable A 127.0.0.1
                _25._tcp.mx.unusable TLSA 0 0 1 %1$s
                _25._tcp.mx.unusable TLSA 1 1 1 %1$s
                implicit A 127.0.0.1
                _25._tcp.implicit TLSA 3 1 1 %1$s
                badhost MX 10 mx.bogus
                insecure NS ns.insecure
                ns.insecure A 127.0.0.1
                bogus NS ns.bogus
                ns.bogus A 127.0.0.1
                %2$s
                """.formatted(HASH, bogusDs);
    }

    private static String child(String origin, String records) {
        return """
                $ORIGIN %1$s
                $TTL 300
                @ SOA ns.%1$s hostmaster.%1$s 1 3600 900 604800 300
                @ NS ns.%1$s
                ns A 127.0.0.1
                """.formatted(origin) + records;
    }

    /**
     * knotd itself: authoritative for every zone of the world, so its answers carry the zones'
     * TTLs unchanged (the resolvers' answers count down) and pass DNSSEC records on.
     */
    public InetSocketAddress authority() {
        return knot.address();
    }

    /** The validating resolver ({@code dane.dnssec: resolver}). */
    public InetSocketAddress validatingResolver() {
        return validating.address();
    }

    /** The resolver that only iterates (the upstream of {@code dane.dnssec: validate}). */
    public InetSocketAddress iteratingResolver() {
        return iterating.address();
    }

    /** The trust anchor of the world (the DS of {@code test.}) as a file. */
    public Path trustAnchorFile() {
        return anchorFile;
    }

    public PolicyHost policyHost() {
        return policyHost;
    }

    public TestCa ca() {
        return ca;
    }

    @Override
    public void close() throws Exception {
        policyHost.close();
        iterating.close();
        validating.close();
        knot.close();
    }
}
