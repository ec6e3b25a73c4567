package org.tlspolicy.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.daemon.PolicyDaemon;
import org.tlspolicy.testworld.DaneWorld;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Optional;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tlspolicyd doctor} reading a Postfix configuration through Debian's real postconf
 * (postconf -c DIR) and probing the real resolvers of {@link DaneWorld}: the validating unbound
 * in Postfix's resolv.conf, the iterating one under the daemon's in-process validation.
 */
@Timeout(60)
class DoctorTest {

    @TempDir
    static Path dir;

    static DaneWorld world;
    static Path daemonConfig;
    /** The daemon doctor checks, really listening (not on 8461: that may be taken here). */
    static PolicyDaemon daemon;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        world = DaneWorld.start(dir);
        String config = """
                dns: {servers: ["127.0.0.1:%d"], timeout: 2s, attempts: 1}
                dane: {dnssec: validate, trust_anchor_file: "%s"}
                cache: {path: ""}
                control: {socket: ""}
                tlsrpt: auto
                """.formatted(world.iteratingResolver().getPort(), world.trustAnchorFile());
        daemon = PolicyDaemon.start(ConfigLoader.parse("socketmap: {listen: [\"127.0.0.1:0\"]}\n"
                + config), Optional.empty());
        port = ((InetSocketAddress) daemon.boundAddresses().get(0)).getPort();
        daemonConfig = Files.writeString(dir.resolve("tlspolicyd.yml"),
                "socketmap: {listen: [\"127.0.0.1:" + port + "\"]}\n" + config);
    }

    @AfterAll
    static void stop() throws Exception {
        daemon.close();
        world.close();
    }

    static Path postfix(String name, String mainCf, String resolvConf) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.writeString(d.resolve("main.cf"), mainCf.replace(":8461:", ":" + port + ":"));
        // Debian's master.cf line for smtp: chrooted.
        Files.writeString(d.resolve("master.cf"),
                "smtp      unix  -       -       y       -       -       smtp\n");
        Files.writeString(d.resolve("resolv.conf"), resolvConf);
        return d;
    }

    static MainTest.Result doctor(Path postfix) {
        return doctor(daemonConfig, postfix, world.validatingResolver().getPort());
    }

    /** Postfix's resolver, named by its resolv.conf, listening on {@code resolverPort}. */
    static MainTest.Result doctor(Path config, Path postfix, int resolverPort) {
        return MainTest.run("doctor", "--config", config.toString(), "--postfix-config",
                postfix.toString(), "--resolv-conf", postfix.resolve("resolv.conf").toString(),
                "--probe-name", "test.", "--resolver-port", Integer.toString(resolverPort));
    }

    @Test
    void aPostfixSetUpForDanePassesEveryCheck() throws Exception {
        Path pf = postfix("good", """
                smtp_dns_support_level = dnssec
                smtp_tls_security_level = dane
                smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix
                smtp_tls_loglevel = 1
                """, "nameserver 127.0.0.1\n");
        MainTest.Result r = doctor(pf);
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("ok    config: "), r.out());
        assertTrue(r.out().contains("\nok    postfix: version 3."), r.out());
        assertTrue(r.out().contains("\nok    smtp_tls_policy_maps: asks tlspolicyd "
                + "(socketmap:inet:127.0.0.1:" + port + ":postfix)\n"), r.out());
        assertTrue(r.out().contains("\nok    listener: answers on inet:127.0.0.1:" + port
                + " (map postfix)\n"), r.out());
        assertTrue(r.out().contains("\nok    smtp_dns_support_level: dnssec\n"), r.out());
        assertTrue(r.out().contains("\nok    resolver: " + pf.resolve("resolv.conf")
                + ": nameserver 127.0.0.1 validates (test. SOA authenticated)\n"), r.out());
        assertTrue(r.out().contains("\nok    tlsrpt: auto: attributes not sent (Postfix 3."),
                r.out());
        // Debian 12's Postfix 3.7 has no TLSRPT client: reports come from its log.
        assertTrue(r.out().contains(" only logs TLS outcomes: collect them with tlsrpt-sender "
                + "collect --journal (or --log FILE)\n"), r.out());
        assertTrue(r.out().contains("\nok    dane.dnssec: validate: test. SOA validates\n"),
                r.out());
        assertTrue(r.out().contains("\nok    smtp_tls_loglevel: Postfix logs each TLS session"),
                r.out());
        assertTrue(r.out().endsWith("no problems found\n"), r.out());
    }

    @Test
    void eachMisconfigurationIsNamedWithWhatToChange() throws Exception {
        Path pf = postfix("bad", """
                smtp_tls_security_level = may
                smtp_tls_policy_maps = hash:/etc/postfix/tls_policy
                """, "nameserver 192.0.2.53\n");
        MainTest.Result r = doctor(pf);
        assertEquals(Main.EXIT_PROBLEMS, r.code(), r.out());
        assertTrue(r.out().contains("\nFAIL  smtp_tls_policy_maps: is "
                + "hash:/etc/postfix/tls_policy, which does not ask tlspolicyd; set in main.cf: "
                + "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:" + port + ":postfix\n"),
                r.out());
        assertTrue(r.out().contains("\nFAIL  smtp_dns_support_level: is empty: Postfix cannot "
                + "use the dane and dane-only replies"), r.out());
        assertTrue(r.out().contains("nameserver 192.0.2.53 is not on loopback"), r.out());
        assertTrue(r.out().contains("\nwarn  smtp_tls_security_level: may: "), r.out());
        // Postfix's default smtp_tls_loglevel (0), also on master.cf's smtp service.
        assertTrue(r.out().contains("\nwarn  smtp_tls_loglevel: tlsrpt-sender collect "
                + "--journal counts nothing: Postfix does not log its TLS sessions (smtp/unix "
                + "smtp_tls_loglevel = 0)"), r.out());
        assertTrue(r.out().endsWith("3 problems to fix\n"), r.out());
    }

    /** A master.cf override is what smtp(8) runs with, whatever main.cf says. */
    @Test
    void aMasterCfOverrideOfTheLogLevelIsSeen() throws Exception {
        Path pf = postfix("override", """
                smtp_dns_support_level = dnssec
                smtp_tls_security_level = dane
                smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix
                smtp_tls_loglevel = 1
                """, "nameserver 127.0.0.1\n");
        Files.writeString(pf.resolve("master.cf"), """
                smtp      unix  -       -       y       -       -       smtp
                relay     unix  -       -       y       -       -       smtp
                  -o smtp_tls_loglevel=untrusted
                """);
        MainTest.Result r = doctor(pf);
        assertTrue(r.out().contains("\nwarn  smtp_tls_loglevel: tlsrpt-sender collect "
                + "--journal counts nothing: Postfix does not log its TLS sessions (relay/unix "
                + "smtp_tls_loglevel = untrusted)"), r.out());
    }

    @Test
    void aResolverThatDoesNotValidateFails() throws Exception {
        // The iterating unbound answers, but sets no AD bit: Postfix could not use DANE.
        Path pf = postfix("nonvalidating", """
                smtp_dns_support_level = dnssec
                smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix
                """, "nameserver 127.0.0.1\n");
        MainTest.Result r = doctor(daemonConfig, pf, world.iteratingResolver().getPort());
        assertEquals(Main.EXIT_PROBLEMS, r.code(), r.out());
        assertTrue(r.out().contains("nameserver 127.0.0.1: does not validate (test. SOA not "
                + "authenticated); Postfix needs a validating resolver there for DANE"), r.out());
    }

    @Test
    void theDaemonsOwnValidationFailsWithTheWrongTrustAnchor() throws Exception {
        Path other = Files.writeString(dir.resolve("other.yml"), Files.readString(daemonConfig)
                .replace("trust_anchor_file: \"" + world.trustAnchorFile() + "\"",
                        "trust_anchor_file: \"\"")); // the root KSKs: test. is not under them
        Path pf = postfix("anchor", """
                smtp_dns_support_level = dnssec
                smtp_tls_security_level = dane
                smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix
                """, "nameserver 127.0.0.1\n");
        MainTest.Result r = doctor(other, pf, world.validatingResolver().getPort());
        assertEquals(Main.EXIT_PROBLEMS, r.code(), r.out());
        assertTrue(r.out().contains("\nFAIL  dane.dnssec: validate: test. SOA is "), r.out());
        assertTrue(r.out().contains("until then every DANE lookup defers mail\n"), r.out());
    }

    @Test
    void aDaemonThatIsNotListeningFails() throws Exception {
        Path other = Files.writeString(dir.resolve("stopped.yml"), Files.readString(daemonConfig)
                .replace("127.0.0.1:" + port, "127.0.0.1:" + closedPort()));
        Path pf = postfix("stopped", """
                smtp_dns_support_level = dnssec
                smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix
                """, "nameserver 127.0.0.1\n");
        MainTest.Result r = doctor(other, pf, world.validatingResolver().getPort());
        assertEquals(Main.EXIT_PROBLEMS, r.code(), r.out());
        assertTrue(r.out().contains("\nFAIL  listener: nothing answers on inet:127.0.0.1:"),
                r.out());
        assertTrue(r.out().contains("start the daemon (systemctl start tlspolicyd)"), r.out());
    }

    @Test
    void anotherMapNameAnsweringThereFails() throws Exception {
        // The daemon listens, but under map "postfix": a config naming another map is wrong.
        Path other = Files.writeString(dir.resolve("othermap.yml"), Files.readString(daemonConfig)
                .replace("socketmap: {listen: [", "socketmap: {map_name: other, listen: ["));
        Path pf = postfix("othermap", """
                smtp_dns_support_level = dnssec
                smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:other
                """, "nameserver 127.0.0.1\n");
        MainTest.Result r = doctor(other, pf, world.validatingResolver().getPort());
        assertEquals(Main.EXIT_PROBLEMS, r.code(), r.out());
        assertTrue(r.out().contains("\nFAIL  listener: something answers on inet:127.0.0.1:"
                + port + " but not as tlspolicyd with map other would ('PERM unknown map name "
                + "'other'')"), r.out());
    }

    /** A loopback port nothing listens on: bound, then released. */
    static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void overridesThatExpiredOrHideDaneAreWarnedAbout() throws Exception {
        java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
        Path other = Files.writeString(dir.resolve("overrides.yml"), Files.readString(daemonConfig)
                + """
                overrides:
                  - {domain: dane-only.test, policy: none, reason: "stale TLSA, ticket 9"}
                  - {domain: insecure.test, policy: encrypt, reason: "r", expires: %s}
                  - {domain: mixed.test, policy: none, reason: "old", expires: %s}
                """.formatted(today, today.minusDays(1)));
        Path pf = postfix("overrides", """
                smtp_dns_support_level = dnssec
                smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix
                """, "nameserver 127.0.0.1\n");
        MainTest.Result r = doctor(other, pf, world.validatingResolver().getPort());
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("\nwarn  override dane-only.test: hides DANE, which "
                + "applies to dane-only.test (usable TLSA records at mx1.dane-only.test, "
                + "mx2.dane-only.test): the "
                + "override's policy=\"none\" replaces dane-only;"), r.out());
        assertTrue(r.out().contains("\nok    override insecure.test: policy=\"encrypt\" "
                + "reason=\"r\" until " + today + "\n"), r.out());
        assertTrue(r.out().contains("\nwarn  override mixed.test: expired on "
                + today.minusDays(1) + " and is ignored: remove it from the configuration\n"),
                r.out());

        MainTest.Result q = MainTest.run("query", "--config", other.toString(),
                "dane-only.test");
        assertEquals(0, q.code(), q.out() + q.err());
        assertTrue(q.out().contains("\noverride:       policy=\"none\" reason=\"stale TLSA, "
                + "ticket 9\"\n"), q.out());
        assertTrue(q.out().contains("\nreply:          NOTFOUND \n"), q.out());
    }

    /**
     * Issue 35, §4 and §5: before resolv.conf is pointed at a new resolver, {@code doctor
     * --resolver} says whether it validates; one that does not answer is named with the cause,
     * never "(null)".
     */
    @Test
    void aResolverIsCheckedAloneBeforeTheSwitch() {
        MainTest.Result ok = MainTest.run("doctor", "--resolver", "127.0.0.1", "--probe-name",
                "test.", "--resolver-port", Integer.toString(world.validatingResolver()
                        .getPort()));
        assertEquals(0, ok.code(), ok.out() + ok.err());
        assertEquals("ok    resolver: 127.0.0.1 validates (test. SOA authenticated)\n",
                ok.out());
        MainTest.Result iterating = MainTest.run("doctor", "--resolver", "127.0.0.1",
                "--probe-name", "test.", "--resolver-port", Integer.toString(world
                        .iteratingResolver().getPort()));
        assertEquals(4, iterating.code());
        assertTrue(iterating.out().startsWith("FAIL  resolver: 127.0.0.1: does not validate"),
                iterating.out());
        MainTest.Result dead = MainTest.run("doctor", "--resolver", "127.0.0.1",
                "--resolver-port", "9");
        assertEquals(4, dead.code());
        assertTrue(dead.out().startsWith("FAIL  resolver: 127.0.0.1: no answer ("),
                dead.out());
        assertFalse(dead.out().contains("null"), dead.out());
    }
}
