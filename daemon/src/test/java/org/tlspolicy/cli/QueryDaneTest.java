package org.tlspolicy.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.DaneWorld;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tlspolicyd query} explaining DANE decisions in the DNSSEC world of {@link DaneWorld}. */
@Timeout(60)
class QueryDaneTest {

    @TempDir
    static Path dir;

    static DaneWorld world;
    static Path config;

    @BeforeAll
    static void start() throws Exception {
        world = DaneWorld.start(dir);
        config = Files.writeString(dir.resolve("c.yml"), """
                dns: {servers: ["127.0.0.1:%d"], timeout: 2s, attempts: 1}
                dane: {dnssec: validate, trust_anchor_file: "%s"}
                cache: {path: ""}
                tlsrpt: "off"
                """.formatted(world.iteratingResolver().getPort(), world.trustAnchorFile()));
    }

    @AfterAll
    static void stop() throws Exception {
        world.close();
    }

    @Test
    void showsTheMxSetEachHostsTlsaAndTheirSecurity() {
        MainTest.Result r = MainTest.run("query", "--config", config.toString(), "mixed.test");
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("\ndnssec:         validate (in-process, trust anchors "
                + world.trustAnchorFile() + ")\n"), out);
        assertTrue(out.contains("\nmx:             secure: [mx1.mixed.test, mx2.mixed.test]\n"),
                out);
        assertTrue(out.contains("\ntlsa:           mx1.mixed.test: usable at "
                + "_25._tcp.mx1.mixed.test (addresses secure, TLSA secure)\n"
                + "                  3 1 1 " + DaneWorld.HASH + "\n"
                + "                mx2.mixed.test: none (no TLSA at _25._tcp.mx2.mixed.test "
                + "(secure))\n"), out);
        assertTrue(out.contains("\nmta_sts:        not consulted: DANE decides\n"), out);
        assertTrue(out.contains("\nsource:         dane\n"), out);
        assertTrue(out.contains("\nreply:          OK dane\n"), out);
    }

    @Test
    void showsWhyDaneDoesNotApplyAndWhatMtaStsSays() {
        MainTest.Result r = MainTest.run("query", "--config", config.toString(), "unusable.test");
        String out = r.out();
        assertTrue(out.contains("                  0 0 1 " + DaneWorld.HASH
                + "  (unusable for SMTP)\n"), out);
        assertTrue(out.contains("\ndane:           does not apply: TLSA records unusable for "
                + "SMTP\n"), out);
        assertTrue(out.contains("\ntxt:            (none)"), out);
        // No DANE authentication, but TLS stays mandatory with that host (RFC 7672 §2.2).
        assertTrue(out.contains("\nreply:          OK dane\n"), out);
    }

    @Test
    void aBogusAnswerExitsAsDeferred() {
        MainTest.Result r = MainTest.run("query", "--config", config.toString(), "bogus.test");
        assertEquals(Main.EXIT_DEFERRED, r.code());
        assertTrue(r.out().contains("\nmx:             bogus\n"), r.out());
        assertTrue(r.out().contains("\ndane:           bogus: MX bogus: bogus.test. MX: "),
                r.out());
        assertTrue(r.out().contains("\nstatus:         TEMP\n"), r.out());
    }
}
