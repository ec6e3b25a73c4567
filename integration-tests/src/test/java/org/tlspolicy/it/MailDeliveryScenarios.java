package org.tlspolicy.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.it.MailWorld.Cert;
import org.tlspolicy.it.MailWorld.Domain;
import org.tlspolicy.it.MailWorld.Mx;
import org.tlspolicy.it.MailWorld.Served;
import org.tlspolicy.it.MailWorld.Sts;
import org.tlspolicy.it.MailWorld.Tlsa;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mail through a real Postfix that asks tlspolicyd (the packaged jar, as a process) for its TLS
 * policy, delivered to real MX hosts (a second Postfix's smtpd listeners) in a DNSSEC-signed
 * world with MTA-STS policy hosts ({@link MailWorld}). Every scenario runs against each
 * Postfix generation the product supports ({@link PostfixRelease}: a subclass per release),
 * with the daemon's default {@code tlsrpt: auto} reading that Postfix's version through its
 * own postconf, so that Postfix 3.10 gets TLSRPT attributes and 3.7 none.
 *
 * <p>Every outcome is read from Postfix itself, never from tlspolicyd: the sender's log line for
 * the recipient ({@code status=sent} or {@code deferred}, with its reason), its TLS lines
 * ({@code Verified TLS connection established to …}), its queue ({@code postqueue -j}) and the
 * receiving Postfix's log; and no attempt may show Postfix refusing the reply it was given
 * ({@link SentMail#POLICY_REFUSED}). Scenarios run one after another, one message each, and
 * each saves the sender's log lines it produced under {@code target/postfix-log-fixtures/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
abstract class MailDeliveryScenarios {

    static final String FROM = "postmaster@sender.test";

    /** A policy long enough that its TLSRPT policy strings do not fit Postfix's reply limit. */
    static final int LONG_POLICY_FILLER = 900;

    static final List<Domain> DOMAINS = List.of(
            sts("sts-good", "enforce", new Mx("mx", "127.0.2.1", Cert.VALID, Tlsa.NONE)),
            sts("sts-wrongname", "enforce",
                    new Mx("mx", "127.0.2.2", Cert.WRONG_NAME, Tlsa.NONE)),
            sts("sts-selfsigned", "enforce",
                    new Mx("mx", "127.0.2.3", Cert.SELF_SIGNED, Tlsa.NONE)),
            sts("sts-expired", "enforce", new Mx("mx", "127.0.2.4", Cert.EXPIRED, Tlsa.NONE)),
            sts("sts-nostarttls", "enforce",
                    new Mx("mx", "127.0.2.5", Cert.NO_STARTTLS, Tlsa.NONE)),
            // Two MX hosts with good certificates; the policy lists only the second.
            new Domain("sts-unlisted", List.of(
                    new Mx("mx-rogue", "127.0.2.6", Cert.VALID, Tlsa.NONE),
                    new Mx("mx", "127.0.2.7", Cert.VALID, Tlsa.NONE)),
                    new Sts("enforce", List.of("mx.sts-unlisted.test")), false),
            sts("sts-testing", "testing",
                    new Mx("mx", "127.0.2.8", Cert.SELF_SIGNED, Tlsa.NONE)),
            new Domain("nopolicy", List.of(
                    new Mx("mx", "127.0.2.9", Cert.SELF_SIGNED, Tlsa.NONE)), null, false),
            // DANE hosts present self-signed certificates: only their TLSA records vouch.
            dane("dane-good", new Mx("mx", "127.0.2.10", Cert.SELF_SIGNED, Tlsa.MATCHING), false),
            dane("dane-bad", new Mx("mx", "127.0.2.11", Cert.SELF_SIGNED, Tlsa.MISMATCHING),
                    false),
            dane("dane-bogus", new Mx("mx", "127.0.2.12", Cert.SELF_SIGNED, Tlsa.MATCHING), true),
            // DANE and MTA-STS: under MTA-STS the self-signed certificate would fail.
            sts("both", "enforce", new Mx("mx", "127.0.2.13", Cert.SELF_SIGNED, Tlsa.MATCHING)),
            // For the resilience scenarios: enforced, this MX fails; not enforced, it would not.
            sts("cached", "enforce", new Mx("mx", "127.0.2.14", Cert.WRONG_NAME, Tlsa.NONE)),
            sts("sts-untrusted", "enforce",
                    new Mx("mx", "127.0.2.15", Cert.UNTRUSTED_CA, Tlsa.NONE)),
            // The preferred MX fails verification, the second one works.
            new Domain("sts-fallback", List.of(
                    new Mx("mx1", "127.0.2.16", Cert.WRONG_NAME, Tlsa.NONE),
                    new Mx("mx2", "127.0.2.17", Cert.VALID, Tlsa.NONE)),
                    new Sts("enforce", List.of("mx1.sts-fallback.test", "mx2.sts-fallback.test")),
                    false),
            // One MX with DANE, one without: the reply is dane, not dane-only.
            new Domain("dane-mixed", List.of(
                    new Mx("mx1", "127.0.2.18", Cert.SELF_SIGNED, Tlsa.MATCHING),
                    new Mx("mx2", "127.0.2.19", Cert.VALID, Tlsa.NONE)), null, false),
            dane("dane-unusable", new Mx("mx", "127.0.2.20", Cert.SELF_SIGNED, Tlsa.UNUSABLE),
                    false),
            new Domain("sts-long", List.of(new Mx("mx", "127.0.2.21", Cert.VALID, Tlsa.NONE)),
                    new Sts("enforce", List.of("mx.sts-long.test"), Served.POLICY,
                            LONG_POLICY_FILLER), false),
            // The MX is two labels below the policy's wildcard, which RFC 8461 §4.1 says
            // matches exactly one; Postfix's match=.sts-wild.test matches any depth.
            new Domain("sts-wild", List.of(new Mx("a.b", "127.0.2.22", Cert.VALID, Tlsa.NONE)),
                    new Sts("enforce", List.of("*.sts-wild.test")), false),
            failing("sts-fetcherror", Served.NOT_FOUND, "127.0.2.23"),
            failing("sts-invalid", Served.INVALID, "127.0.2.24"),
            failing("sts-webpki", Served.WRONG_CERTIFICATE, "127.0.2.25"),
            // Issue 34, finding 2: DANE on the first MX (failing here), none on the second,
            // which strips STARTTLS; MTA-STS enforce covers both. dane would send the mail to
            // the second in clear.
            new Domain("dane-partial-sts", List.of(
                    new Mx("mx1", "127.0.2.26", Cert.SELF_SIGNED, Tlsa.MISMATCHING),
                    new Mx("mx2", "127.0.2.27", Cert.NO_STARTTLS, Tlsa.NONE)),
                    new Sts("enforce", List.of("mx1.dane-partial-sts.test",
                            "mx2.dane-partial-sts.test")), false),
            // Issue 32, §5: a PKIX-EE (usage 1) record only, and no STARTTLS.
            dane("dane-unusable-plain", new Mx("mx", "127.0.2.28", Cert.NO_STARTTLS,
                    Tlsa.UNUSABLE), false));

    // Static: an instance field is not yet set in @BeforeAll. Each subclass runs on its own.
    @TempDir
    static Path dir;

    final PostfixRelease release;
    MailWorld world;
    PostfixContainer sender;
    DaemonProcess daemon;
    Path daemonConfig;
    SentMail mail;

    MailDeliveryScenarios(PostfixRelease release) {
        this.release = release;
    }

    static Domain sts(String name, String mode, Mx mx) {
        return new Domain(name, List.of(mx), new Sts(mode, List.of(mx.label() + "." + name
                + ".test")), false);
    }

    static Domain dane(String name, Mx mx, boolean bogus) {
        return new Domain(name, List.of(mx), null, bogus);
    }

    static Domain failing(String name, Served served, String ip) {
        return new Domain(name, List.of(new Mx("mx", ip, Cert.VALID, Tlsa.NONE)),
                new Sts("enforce", List.of("mx." + name + ".test"), served, 0), false);
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Main.cf lines the main sender adds to the README's (3.10: its TLSRPT client). */
    String senderMainCf() throws Exception {
        return "";
    }

    /** Host directories bound into the main sender. */
    Map<Path, String> senderBinds() throws Exception {
        return Map.of();
    }

    /** Runs before the main sender starts (3.10: its TLSRPT collector). */
    void beforeSender() throws Exception {
    }

    /** Runs after every scenario, before the world stops. */
    void afterScenarios() throws Exception {
    }

    /**
     * tlspolicyd's configuration for a sender: the world's resolver and CA, {@code tlsrpt}
     * left at its default (auto), and that Postfix's own postconf to decide it from.
     */
    Path daemonConfig(String name, int port, PostfixContainer postfix) throws Exception {
        Path wrapper = postfix.postconfWrapper(dir.resolve(name + "-postconf"));
        return Files.writeString(dir.resolve(name + ".yml"), """
                socketmap: {listen: ["127.0.0.1:%d"]}
                dns: {servers: ["%s"], timeout: 2s, attempts: 1}
                mta_sts: {allow_private_addresses: true, extra_ca_file: "%s"}
                dane: {dnssec: resolver}
                cache: {path: "%s"}
                control: {socket: ""}
                postfix: {postconf: "%s"}
                """.formatted(port, MailWorld.RESOLVER.getAddress().getHostAddress(),
                world.caFile(), dir.resolve(name + "-cache.db"), wrapper));
    }

    /** Starts tlspolicyd and checks that tlsrpt: auto read the right answer from Postfix. */
    DaemonProcess serve(Path config) throws Exception {
        DaemonProcess d = DaemonProcess.serve(config);
        d.awaitLine(release.tlsrpt() ? "reads TLSRPT attributes" : "predates TLSRPT (3.10)", 5);
        return d;
    }

    @BeforeAll
    void startWorld() throws Exception {
        world = MailWorld.start(dir, DOMAINS);
        int port = freePort();
        beforeSender();
        // Postfix first: the daemon asks it for its version at start.
        sender = world.startSender(release, "sender", port, senderMainCf(), senderBinds());
        daemonConfig = daemonConfig("tlspolicyd", port, sender);
        daemon = serve(daemonConfig);
        mail = new SentMail(sender, world.receiver(), FROM);
    }

    @AfterAll
    void stopWorld() throws Exception {
        afterScenarios();
        if (sender != null) {
            sender.close();
        }
        if (daemon != null) {
            daemon.close();
        }
        if (world != null) {
            world.close();
        }
    }

    /** What the daemon answers {@code domain} on map {@code map}, asked by Postfix's postmap. */
    Postmap.Result ask(DaemonProcess d, String domain, String map) throws Exception {
        return new Postmap(dir.resolve("postmap")).query(domain,
                "socketmap:inet:127.0.0.1:" + d.port() + ":" + map);
    }

    // --- MTA-STS -------------------------------------------------------------------------

    @Test
    @Order(1)
    void stsEnforceWithValidCertificateDeliversVerified() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-good", "alice", "mta-sts enforce, valid certificate");
        mail.assertDelivered(a);
        assertEquals("mx.sts-good.test[127.0.2.1]:25", a.delivery().relay());
        SentMail.assertLogged(a, "Verified TLS connection established to "
                + "mx.sts-good.test[127.0.2.1]:25");
        String reply = ask(daemon, "sts-good.test", "postfix").out();
        assertEquals(release.tlsrpt(), reply.contains(" policy_type=sts policy_domain="
                + "sts-good.test mx_host_pattern=mx.sts-good.test "), reply);
    }

    @Test
    @Order(2)
    void stsEnforceWithWrongNameDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-wrongname", "bob", "mta-sts enforce, certificate "
                + "for another name");
        mail.assertDeferred(a, "Server certificate not verified");
    }

    @Test
    @Order(3)
    void stsEnforceWithSelfSignedDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-selfsigned", "carol", "mta-sts enforce, "
                + "self-signed certificate");
        mail.assertDeferred(a, "Server certificate not verified");
    }

    @Test
    @Order(4)
    void stsEnforceWithExpiredDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-expired", "dave", "mta-sts enforce, expired "
                + "certificate");
        mail.assertDeferred(a, "Server certificate not verified");
        // Twice more, as a relay's day holds many: the sender keeps TLS sessions (Debian's
        // smtp_tls_session_cache_database), so these may resume the first one's, which
        // Postfix logs otherwise ("re-using session with untrusted certificate"). Each must
        // count once, as certificate-expired (tlsrptSenderReportsWhatPostfixLogged).
        for (String user : List.of("dave2", "dave3")) {
            mail.assertDeferred(mail.deliver("sts-expired", user, "mta-sts enforce, expired "
                    + "certificate, again"), "Server certificate not verified");
        }
    }

    @Test
    @Order(5)
    void stsEnforceWithoutStarttlsDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-nostarttls", "erin", "mta-sts enforce, MX offers "
                + "no STARTTLS");
        mail.assertDeferred(a, "TLS is required, but was not offered");
    }

    /**
     * The preferred MX is not in the policy. Postfix 3.7 tries it and refuses its certificate
     * for the name; Postfix 3.10.5+ (smtp_tls_enforce_sts_mx_patterns = yes, its default, fed
     * by the mx_host_pattern attributes) does not connect to it at all.
     */
    @Test
    @Order(6)
    void stsMxNotInPolicyIsNotUsed() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-unlisted", "frank", "mta-sts enforce, preferred MX "
                + "not in the policy's mx list");
        mail.assertDelivered(a);
        assertEquals("mx.sts-unlisted.test[127.0.2.7]:25", a.delivery().relay());
        SentMail.assertNotLogged(a, "Verified TLS connection established to "
                + "mx-rogue.sts-unlisted.test");
        if (release.tlsrpt()) {
            SentMail.assertLogged(a, "MX name 'mx-rogue.sts-unlisted.test' does not match STS MX "
                    + "pattern for 'sts-unlisted.test'");
            SentMail.assertNotLogged(a, "127.0.2.6]:25");
        } else {
            // Tried and refused for its name, never given the message.
            SentMail.assertLogged(a, "mx-rogue.sts-unlisted.test[127.0.2.6]");
        }
    }

    @Test
    @Order(7)
    void stsTestingWithBadCertificateDelivers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-testing", "grace", "mta-sts testing, self-signed "
                + "certificate");
        mail.assertDelivered(a);
        SentMail.assertLogged(a, "Untrusted TLS connection established to "
                + "mx.sts-testing.test[127.0.2.8]:25");
    }

    @Test
    @Order(8)
    void noPolicyDeliversOpportunistically() throws Exception {
        SentMail.Attempt a = mail.deliver("nopolicy", "heidi", "no policy, opportunistic TLS");
        mail.assertDelivered(a);
        SentMail.assertLogged(a, "Untrusted TLS connection established to "
                + "mx.nopolicy.test[127.0.2.9]:25");
    }

    @Test
    @Order(9)
    void stsEnforceWithUntrustedCaDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-untrusted", "ivy", "mta-sts enforce, certificate "
                + "from an untrusted CA");
        mail.assertDeferred(a, "Server certificate not verified");
    }

    // --- DANE ----------------------------------------------------------------------------

    /**
     * The regression test of the Postfix 3.10 deferral: with TLSRPT attributes on, the reply
     * for a DANE domain was {@code dane-only policy_type=tlsa …}, which Postfix 3.10 refuses
     * ("attribute "policy_type" has an unexpected value") and defers the mail for.
     */
    @Test
    @Order(10)
    void daneMatchingTlsaDeliversVerified() throws Exception {
        SentMail.Attempt a = mail.deliver("dane-good", "ivan", "dane, TLSA 3 1 1 matching");
        mail.assertDelivered(a);
        SentMail.assertLogged(a, "Verified TLS connection established to "
                + "mx.dane-good.test[127.0.2.10]:25");
        assertEquals("dane-only", ask(daemon, "dane-good.test", "postfix").out().strip());
    }

    @Test
    @Order(11)
    void daneMismatchingTlsaDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("dane-bad", "judy", "dane, TLSA 3 1 1 not matching");
        mail.assertDeferred(a, "Server certificate not verified");
    }

    @Test
    @Order(12)
    void daneBogusDnssecDefersWithoutConnecting() throws Exception {
        SentMail.Attempt a = mail.deliver("dane-bogus", "mallory", "dane, bogus DNSSEC");
        // Postfix's words for a TEMP reply: the policy lookup failed, the mail waits.
        mail.assertDeferred(a, "client TLS configuration problem");
        SentMail.assertLogged(a, "socketmap server temporary error: DNSSEC validation failed");
        SentMail.assertLogged(a, "policy table lookup error");
        assertFalse(a.logged("127.0.2.12"), "connected to the MX of a bogus zone: "
                + String.join("\n", a.lines()));
    }

    @Test
    @Order(13)
    void daneWinsOverMtaSts() throws Exception {
        SentMail.Attempt a = mail.deliver("both", "niaj", "dane and mta-sts both published");
        mail.assertDelivered(a);
        SentMail.assertLogged(a, "Verified TLS connection established to "
                + "mx.both.test[127.0.2.13]:25");
    }

    @Test
    @Order(14)
    void daneOnSomeMxIsDaneNotDaneOnly() throws Exception {
        SentMail.Attempt a = mail.deliver("dane-mixed", "oscar", "dane on one of two MX hosts");
        mail.assertDelivered(a);
        SentMail.assertLogged(a, "Verified TLS connection established to "
                + "mx1.dane-mixed.test[127.0.2.18]:25");
        assertEquals("dane", ask(daemon, "dane-mixed.test", "postfix").out().strip());
    }

    /**
     * TLSA records that are all unusable (PKIX-EE): tlspolicyd answers dane, Postfix then
     * insists on TLS without authentication (RFC 7672 §2.2) and delivers over it.
     */
    @Test
    @Order(15)
    void daneWithUnusableTlsaStillUsesTls() throws Exception {
        SentMail.Attempt a = mail.deliver("dane-unusable", "pat", "dane, TLSA records unusable");
        mail.assertDelivered(a);
        SentMail.assertLogged(a, "TLS connection established to mx.dane-unusable.test"
                + "[127.0.2.20]:25");
        SentMail.assertNotLogged(a, "Verified TLS connection");
        assertEquals("dane", ask(daemon, "dane-unusable.test", "postfix").out().strip());
    }

    /**
     * Issue 34, finding 2: DANE covers one MX host, MTA-STS enforce covers both. The answer is
     * dane-only, so Postfix never uses the host without TLSA: with the first MX failing DANE
     * and the second offering no STARTTLS (an attacker's doing), the mail waits instead of
     * going to the second in clear.
     */
    @Test
    @Order(21)
    void partialDaneUnderMtaStsEnforceNeverGoesInClear() throws Exception {
        SentMail.Attempt a = mail.deliver("dane-partial-sts", "petra", "dane on one MX, "
                + "mta-sts enforce on both, the other without STARTTLS");
        assertTrue(a.delivery().deferred(), a.delivery().line());
        assertFalse(a.logged("status=sent"), String.join("\n", a.lines()));
        assertFalse(world.receiver().log().lines().stream().anyMatch(l ->
                l.contains("petra@dane-partial-sts.test")), "the MX without TLSA got the mail");
        assertEquals("dane-only", ask(daemon, "dane-partial-sts.test", "postfix").out().strip());
    }

    /**
     * Issue 32, §5: TLSA records that are all unusable (PKIX-EE, usage 1): tlspolicyd answers
     * dane (RFC 7672 §2.2: TLS is still required), and Postfix's dane level does not deliver
     * to the host without STARTTLS.
     */
    @Test
    @Order(23)
    void unusableTlsaStillRequiresStarttls() throws Exception {
        SentMail.Attempt a = mail.deliver("dane-unusable-plain", "quentin", "dane, TLSA "
                + "records unusable, no STARTTLS");
        mail.assertDeferred(a, "TLS is required, but was not offered");
        assertEquals("dane", ask(daemon, "dane-unusable-plain.test", "postfix").out().strip());
    }

    /**
     * Issue 34, finding 5: a recipient whose quoted local part holds {@code >, "} and another
     * domain. Postfix logs it as is; the TLS-RPT sender (scenario 40) counts the session for
     * the domain after the last {@code @}, not for the one inside the quotes.
     */
    @Test
    @Order(20)
    void aQuotedLocalPartIsLoggedAsIs() throws Exception {
        String rcpt = "\"postmaster@victim.test>, \"@sts-good.test";
        PostfixLog log = sender.log();
        int mark = log.mark();
        sender.send(FROM, rcpt, "a recipient that names another domain");
        String line = log.awaitLine("to=<" + rcpt + ">, relay=mx.sts-good.test", mark, 60);
        assertTrue(line.contains("status=sent"), line);
    }

    // --- More MTA-STS shapes --------------------------------------------------------------

    @Test
    @Order(16)
    void stsFallsBackToTheNextMxWhenTheFirstFails() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-fallback", "quinn", "mta-sts enforce, first MX "
                + "fails verification, second works");
        mail.assertDelivered(a);
        assertEquals("mx2.sts-fallback.test[127.0.2.17]:25", a.delivery().relay());
        SentMail.assertLogged(a, "mx1.sts-fallback.test[127.0.2.16]:25");
        SentMail.assertLogged(a, "Verified TLS connection established to "
                + "mx2.sts-fallback.test[127.0.2.17]:25");
    }

    /**
     * A policy whose TLSRPT policy strings would not fit Postfix's 100,000-byte reply: the reply
     * sheds them (3.10 keeps its mx_host_pattern attributes), and Postfix uses it.
     */
    @Test
    @Order(17)
    void aLongPolicyIsEnforced() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-long", "rita", "mta-sts enforce, a long policy");
        mail.assertDelivered(a);
        SentMail.assertLogged(a, "Verified TLS connection established to "
                + "mx.sts-long.test[127.0.2.21]:25");
        String reply = ask(daemon, "sts-long.test", "postfix").out();
        // 3.10: the match list and the mx_host_patterns; 3.7: the match list alone.
        assertTrue(reply.length() > (release.tlsrpt() ? 80_000 : 30_000)
                && reply.length() < 100_000, "" + reply.length());
        assertFalse(reply.contains("policy_string"), "policy strings kept");
        assertEquals(release.tlsrpt(), reply.contains("mx_host_pattern=backup-899.filler"));
    }

    /**
     * {@code mx: *.sts-wild.test} and an MX two labels below. Postfix 3.7's match list matches
     * any depth and delivers; 3.10.5+ with the mx_host_pattern attributes applies RFC 8461
     * §4.1's one-label rule and does not use the MX at all.
     */
    @Test
    @Order(18)
    void aWildcardMatchesOneLabelWhereTheMxPatternsAreEnforced() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-wild", "sam", "mta-sts enforce, MX two labels "
                + "below the wildcard");
        if (release.tlsrpt()) {
            mail.assertDeferred(a, "server unavailable or unable to receive mail");
            SentMail.assertLogged(a, "MX name 'a.b.sts-wild.test' does not match STS MX "
                    + "pattern for 'sts-wild.test'");
        } else {
            mail.assertDelivered(a);
            SentMail.assertLogged(a, "Verified TLS connection established to "
                    + "a.b.sts-wild.test[127.0.2.22]:25");
        }
    }

    /**
     * A domain announces MTA-STS but no valid policy can be had (404, an invalid body, the
     * policy host's certificate for another name), nothing cached: with the README's
     * {@code smtp_tls_security_level = dane} the reply is NOTFOUND and mail goes as without
     * MTA-STS (RFC 8461 §5).
     */
    @Test
    @Order(19)
    void policyFailuresWithoutACachedPolicyLeaveMailToPostfixsLevel() throws Exception {
        for (String[] s : new String[][]{{"sts-fetcherror", "tom", "policy host answers 404"},
                {"sts-invalid", "uma", "policy invalid"},
                {"sts-webpki", "vic", "policy host certificate for another name"}}) {
            SentMail.Attempt a = mail.deliver(s[0], s[1], "mta-sts, " + s[2]);
            mail.assertDelivered(a);
            assertEquals(1, ask(daemon, s[0] + ".test", "postfix").exitCode(), "NOTFOUND");
        }
    }

    /**
     * The same failures through a Postfix whose own level is {@code may}: with TLSRPT attributes
     * (3.10) the reply names the failure ({@code may policy_type=sts … policy_failure=…}, one
     * of the values Postfix accepts), which Postfix takes and delivers under; 3.7 gets NOTFOUND.
     */
    @Test
    @Order(22)
    void policyFailureRepliesAreAcceptedAtPostfixsOwnLevel() throws Exception {
        int port = freePort();
        try (PostfixContainer may = world.startSender(release, "sender-may", port,
                "smtp_tls_security_level = may\n", Map.of());
             DaemonProcess mayDaemon = serve(daemonConfig("tlspolicyd-may", port, may))) {
            SentMail mayMail = new SentMail(may, world.receiver(), FROM);
            for (String[] s : new String[][]{
                    {"sts-fetcherror", "wes", "sts-policy-fetch-error"},
                    {"sts-invalid", "xena", "sts-policy-invalid"},
                    {"sts-webpki", "yann", "sts-webpki-invalid"}}) {
                SentMail.Attempt a = mayMail.deliver(s[0], s[1], "level may, " + s[2]);
                mayMail.assertDelivered(a);
                Postmap.Result r = ask(mayDaemon, s[0] + ".test", "postfix");
                if (release.tlsrpt()) {
                    assertEquals("may policy_type=sts policy_domain=" + s[0] + ".test "
                            + "policy_failure=" + s[2], r.out().strip(), r.toString());
                } else {
                    assertEquals(1, r.exitCode(), "NOTFOUND: " + r);
                }
            }
        }
    }

    // --- What the TLS-RPT sender is told --------------------------------------------------

    /**
     * After Postfix's lookups, the daemon's "tlsrpt" map (what the TLS-RPT sender asks, here
     * with Postfix's own postmap) names the policy each domain's sessions count under, with
     * the TLSRPT attributes in RFC 8460's words, testing policies and TLSA policies included.
     */
    @Test
    @Order(25)
    void reportPoliciesOfTheDomainsPostfixAsked() throws Exception {
        Postmap.Result testing = ask(daemon, "sts-testing.test", "tlsrpt");
        assertEquals(0, testing.exitCode(), testing.toString());
        assertTrue(testing.out().contains("policy_type=sts policy_domain=sts-testing.test "
                + "mx_host_pattern=mx.sts-testing.test"), testing.out());
        assertTrue(testing.out().contains("{ policy_string = mode: testing }"), testing.out());
        Postmap.Result dane = ask(daemon, "dane-good.test", "tlsrpt");
        assertTrue(dane.out().startsWith("dane-only policy_type=tlsa policy_domain="
                + "dane-good.test mx_host_pattern=mx.dane-good.test { policy_string = 3 1 1 "),
                dane.toString());
        assertEquals(1, ask(daemon, "nopolicy.test", "tlsrpt").exitCode(), "NOTFOUND");
    }

    // --- Resilience ----------------------------------------------------------------------

    @Test
    @Order(30)
    void cachedPolicyStaysEnforcedAcrossPolicyHostOutageAndRestart() throws Exception {
        SentMail.Attempt first = mail.deliver("cached", "olivia", "mta-sts enforce, policy "
                + "fetched");
        mail.assertDeferred(first, "Server certificate not verified");

        world.policyHost("cached.test").close();
        SentMail.Attempt hostDown = mail.deliver("cached", "peggy", "mta-sts enforce, policy "
                + "host down, policy cached");
        mail.assertDeferred(hostDown, "Server certificate not verified");

        daemon.signal("TERM");
        assertEquals(143, daemon.awaitExit(30)); // README: 143 after a graceful SIGTERM
        daemon = serve(daemonConfig);
        SentMail.Attempt restarted = mail.deliver("cached", "rupert", "mta-sts enforce, daemon "
                + "restarted while the policy host is down");
        mail.assertDeferred(restarted, "Server certificate not verified");
    }

    @Test
    @Order(31)
    void mailWaitsWhileTheDaemonIsDownAndGoesWhenItIsBack() throws Exception {
        daemon.signal("TERM");
        assertEquals(143, daemon.awaitExit(30)); // README: 143 after a graceful SIGTERM
        // To a domain that would go out at once with the daemon up (opportunistic TLS).
        SentMail.Attempt down = mail.deliver("nopolicy", "sybil", "tlspolicyd not running");
        mail.assertDeferred(down, "client TLS configuration problem");
        SentMail.assertLogged(down, "lookup error: Connection refused");

        daemon = serve(daemonConfig);
        PostfixLog log = sender.log();
        int mark = log.mark();
        sender.exec("postqueue", "-i", down.delivery().queueId());
        PostfixLog.Delivery retried = log.awaitDelivery(down.delivery().recipient(), mark, 60);
        assertTrue(retried.sent(), retried.line());
    }

    // --- The unix-socket variant, for a chrooted smtp(8) -----------------------------------

    /**
     * postfix-conf/main.cf's other variant: tlspolicyd on a unix socket under Postfix's queue
     * directory, {@code socketmap:unix:private/tlspolicy:postfix}, asked by Debian's chrooted
     * smtp(8) (whose chroot is the queue directory, so the relative path is the one it sees).
     * The policy is enforced through it as through TCP.
     */
    @Test
    @Order(35)
    void unixSocketVariantServesAChrootedSmtp() throws Exception {
        Path privateDir = Files.createDirectories(dir.resolve("spool-private"));
        Path socket = privateDir.resolve("tlspolicy");
        try (PostfixContainer chrooted = world.startUnixSocketSender(release, privateDir)) {
            Path wrapper = chrooted.postconfWrapper(dir.resolve("unix-postconf"));
            Path config = Files.writeString(dir.resolve("tlspolicyd-unix.yml"), """
                    socketmap:
                      listen: []
                      # The container's postfix user is not this host's: any local user may connect.
                      unix_socket: {path: "%s", mode: "0666"}
                    dns: {servers: ["%s"], timeout: 2s, attempts: 1}
                    mta_sts: {allow_private_addresses: true, extra_ca_file: "%s"}
                    dane: {dnssec: resolver}
                    cache: {path: "%s"}
                    control: {socket: ""}
                    postfix: {postconf: "%s"}
                    """.formatted(socket, MailWorld.RESOLVER.getAddress().getHostAddress(),
                    world.caFile(), dir.resolve("cache-unix.db"), wrapper));
            try (DaemonProcess unixDaemon = serve(config)) {
                assertEquals("y\n", chrooted.exec("postconf", "-Fh", "smtp/unix/chroot"),
                        "Debian's smtp(8) runs chrooted");
                assertEquals("socketmap:unix:private/tlspolicy:postfix\n",
                        chrooted.exec("postconf", "-h", "smtp_tls_policy_maps"));
                PostfixLog log = chrooted.log();
                int mark = log.mark();
                chrooted.send(FROM, "tina@sts-wrongname.test", "unix socket, mta-sts enforce");
                PostfixLog.Delivery enforced = log.awaitDelivery("tina@sts-wrongname.test", mark,
                        60);
                assertTrue(enforced.deferred(), enforced.line());
                assertEquals("Server certificate not verified", enforced.reason());
                chrooted.send(FROM, "uma@sts-good.test", "unix socket, mta-sts enforce, valid");
                PostfixLog.Delivery sent = log.awaitDelivery("uma@sts-good.test", mark, 60);
                assertTrue(sent.sent(), sent.line());
                List<String> lines = log.linesSince(mark);
                assertTrue(lines.stream().noneMatch(l -> l.contains("lookup error")
                        || SentMail.POLICY_REFUSED.stream().anyMatch(l::contains)),
                        String.join("\n", lines));
            }
        }
    }

    // --- TLS-RPT: the sender reads this Postfix's log ------------------------------------

    DaemonProcess.Result tlsrptSender(String store, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("--store", dir.resolve(store).toString()));
        command.addAll(List.of(args));
        return DaemonProcess.runJar(tlsrptSenderJar(), command);
    }

    static Path tlsrptSenderJar() {
        return Path.of(System.getProperty("tlsrpt-sender.jar",
                "../tlsrpt-sender/target/tlsrpt-sender.jar"));
    }

    private void collectSenderLog() throws Exception {
        // --postfix-config: the sender's, not whatever Postfix this host has (its
        // smtp_tls_loglevel would decide whether anything is counted).
        DaemonProcess.Result collect = tlsrptSender("tlsrpt.db", "collect", "--once",
                "--timezone", "UTC", "--log", dir.resolve("sender/log/mail.log").toString(),
                "--postfix-config", dir.resolve("sender/config").toString(),
                "--policy-server", "inet:127.0.0.1:" + daemon.port());
        assertEquals(0, collect.exitCode(), collect.toString());
    }

    /** The report for {@code policyDomain} among the reports {@code json} holds. */
    static JsonNode report(String json, String policyDomain) throws IOException {
        try (com.fasterxml.jackson.databind.MappingIterator<JsonNode> reports =
                     new ObjectMapper().readerFor(JsonNode.class).readValues(json)) {
            while (reports.hasNext()) {
                JsonNode r = reports.next();
                for (JsonNode p : r.path("policies")) {
                    if (policyDomain.equals(p.path("policy").path("policy-domain").asText())) {
                        return r;
                    }
                }
            }
        }
        throw new AssertionError("no report for " + policyDomain + " in\n" + json);
    }

    String todaysReports(String store) throws Exception {
        String day = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
        DaemonProcess.Result report = tlsrptSender(store, "report", "--day", day,
                "--organization", "Sender Org", "--contact", "mailto:postmaster@sender.test",
                "--submitter", "sender.test");
        assertEquals(0, report.exitCode(), report.toString());
        return report.out();
    }

    /**
     * tlsrpt-sender collects everything the scenarios made from Postfix's own log, asking the
     * running daemon for each domain's policy, and reports it: checked on the day's reports.
     */
    @Test
    @Order(40)
    void tlsrptSenderReportsWhatPostfixLogged() throws Exception {
        collectSenderLog();
        String json = todaysReports("tlsrpt.db");
        // One report per domain Postfix tried, each with its policy and outcome.
        for (String expected : List.of(
                "\"policy-domain\" : \"sts-wrongname.test\"",
                "\"result-type\" : \"certificate-host-mismatch\"",
                "\"receiving-mx-hostname\" : \"mx.sts-wrongname.test\"",
                "\"result-type\" : \"starttls-not-supported\"",
                "\"result-type\" : \"certificate-expired\"",
                "\"result-type\" : \"tlsa-invalid\"",
                "\"result-type\" : \"dnssec-invalid\"",
                "\"policy-type\" : \"no-policy-found\"",
                "\"policy-type\" : \"tlsa\"",
                "\"policy-string\" : [ \"version: STSv1\", \"mode: testing\"")) {
            assertTrue(json.contains(expected), expected + " in\n" + json);
        }
        // Issue 34, finding 5: the quoted recipient counted for sts-good.test only.
        assertFalse(json.contains("victim.test"), json);
        // Issue 32 §5: every session with the expired MX counted once, each as
        // certificate-expired, none as anything else (resumed sessions included).
        JsonNode expired = report(json, "sts-expired.test");
        JsonNode summary = expired.get("policies").get(0).get("summary");
        assertEquals(3, summary.get("total-failure-session-count").asInt(), expired.toString());
        assertEquals(0, summary.get("total-successful-session-count").asInt(),
                expired.toString());
        for (JsonNode f : expired.get("policies").get(0).get("failure-details")) {
            assertEquals("certificate-expired", f.get("result-type").asText(),
                    expired.toString());
        }
        collectSenderLog();
        assertEquals(json, todaysReports("tlsrpt.db"), "a second collect counts nothing twice");
    }
}
