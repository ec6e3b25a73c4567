package org.tlspolicy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.it.MailWorld.Cert;
import org.tlspolicy.it.MailWorld.Domain;
import org.tlspolicy.it.MailWorld.Mx;
import org.tlspolicy.it.MailWorld.Tlsa;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mail through a real Postfix (Debian 12's 3.7, in a container) that asks tlspolicyd (the
 * packaged jar, as a process) for its TLS policy, delivered to real MX hosts (a second Postfix's
 * smtpd listeners) in a DNSSEC-signed world with MTA-STS policy hosts ({@link MailWorld}).
 *
 * <p>Every outcome is read from Postfix itself, never from tlspolicyd: the sender's log line for
 * the recipient ({@code status=sent} or {@code deferred}, with its reason), its TLS lines
 * ({@code Verified TLS connection established to …}), its queue ({@code postqueue -j}) and the
 * receiving Postfix's log. Scenarios run one after another, one message each, and each saves
 * the sender's log lines it produced under {@code target/postfix-log-fixtures/}: the source of
 * the TLS-RPT tests' fixtures ({@code tlsrpt-sender/src/test/resources/postfix-logs/}, copied
 * from a run).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class MailDeliveryTest {

    private static final String FROM = "postmaster@sender.test";

    private static final List<Domain> DOMAINS = List.of(
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
                    "enforce", List.of("mx.sts-unlisted.test"), false),
            sts("sts-testing", "testing",
                    new Mx("mx", "127.0.2.8", Cert.SELF_SIGNED, Tlsa.NONE)),
            new Domain("nopolicy", List.of(
                    new Mx("mx", "127.0.2.9", Cert.SELF_SIGNED, Tlsa.NONE)), null, List.of(),
                    false),
            // DANE hosts present self-signed certificates: only their TLSA records vouch.
            dane("dane-good", new Mx("mx", "127.0.2.10", Cert.SELF_SIGNED, Tlsa.MATCHING), false),
            dane("dane-bad", new Mx("mx", "127.0.2.11", Cert.SELF_SIGNED, Tlsa.MISMATCHING),
                    false),
            dane("dane-bogus", new Mx("mx", "127.0.2.12", Cert.SELF_SIGNED, Tlsa.MATCHING), true),
            // DANE and MTA-STS: under MTA-STS the self-signed certificate would fail.
            sts("both", "enforce", new Mx("mx", "127.0.2.13", Cert.SELF_SIGNED, Tlsa.MATCHING)),
            // For the resilience scenarios: enforced, this MX fails; not enforced, it would not.
            sts("cached", "enforce", new Mx("mx", "127.0.2.14", Cert.WRONG_NAME, Tlsa.NONE)));

    @TempDir
    static Path dir;

    private static MailWorld world;
    private static PostfixContainer sender;
    private static DaemonProcess daemon;
    private static Path daemonConfig;
    private static SentMail mail;

    private static Domain sts(String name, String mode, Mx mx) {
        return new Domain(name, List.of(mx), mode, List.of(mx.label() + "." + name + ".test"),
                false);
    }

    private static Domain dane(String name, Mx mx, boolean bogus) {
        return new Domain(name, List.of(mx), null, List.of(), bogus);
    }

    @BeforeAll
    static void startWorld() throws Exception {
        world = MailWorld.start(dir, DOMAINS);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        daemonConfig = Files.writeString(dir.resolve("tlspolicyd.yml"), """
                socketmap: {listen: ["127.0.0.1:%d"]}
                dns: {servers: ["%s"], timeout: 2s, attempts: 1}
                mta_sts: {extra_ca_file: "%s"}
                dane: {dnssec: resolver}
                cache: {path: "%s"}
                tlsrpt: "off"
                """.formatted(port, MailWorld.RESOLVER.getAddress().getHostAddress(),
                world.caFile(), dir.resolve("cache.db")));
        daemon = DaemonProcess.serve(daemonConfig);
        sender = world.startSender(port);
        mail = new SentMail(sender, world.receiver(), FROM);
    }

    @AfterAll
    static void stopWorld() throws Exception {
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

    // --- MTA-STS -------------------------------------------------------------------------

    @Test
    @Order(1)
    void stsEnforceWithValidCertificateDeliversVerified() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-good", "alice", "mta-sts enforce, valid certificate");
        mail.assertDelivered(a);
        assertEquals("mx.sts-good.test[127.0.2.1]:25", a.delivery().relay());
        SentMail.assertLogged(a, "Verified TLS connection established to "
                + "mx.sts-good.test[127.0.2.1]:25");
    }

    @Test
    @Order(2)
    void stsEnforceWithWrongNameDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-wrongname", "bob", "mta-sts enforce, certificate for another "
                + "name");
        mail.assertDeferred(a, "Server certificate not verified");
    }

    @Test
    @Order(3)
    void stsEnforceWithSelfSignedDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-selfsigned", "carol", "mta-sts enforce, self-signed certificate");
        mail.assertDeferred(a, "Server certificate not verified");
    }

    @Test
    @Order(4)
    void stsEnforceWithExpiredDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-expired", "dave", "mta-sts enforce, expired certificate");
        mail.assertDeferred(a, "Server certificate not verified");
    }

    @Test
    @Order(5)
    void stsEnforceWithoutStarttlsDefers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-nostarttls", "erin", "mta-sts enforce, MX offers no STARTTLS");
        mail.assertDeferred(a, "TLS is required, but was not offered");
    }

    @Test
    @Order(6)
    void stsMxNotInPolicyIsNotUsed() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-unlisted", "frank", "mta-sts enforce, preferred MX not in the "
                + "policy's mx list");
        mail.assertDelivered(a);
        assertEquals("mx.sts-unlisted.test[127.0.2.7]:25", a.delivery().relay());
        // The preferred host was tried and refused for its name, never given the message.
        SentMail.assertLogged(a, "mx-rogue.sts-unlisted.test[127.0.2.6]");
        SentMail.assertNotLogged(a, "Verified TLS connection established to "
                + "mx-rogue.sts-unlisted.test");
    }

    @Test
    @Order(7)
    void stsTestingWithBadCertificateDelivers() throws Exception {
        SentMail.Attempt a = mail.deliver("sts-testing", "grace", "mta-sts testing, self-signed certificate");
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

    // --- DANE ----------------------------------------------------------------------------

    @Test
    @Order(10)
    void daneMatchingTlsaDeliversVerified() throws Exception {
        SentMail.Attempt a = mail.deliver("dane-good", "ivan", "dane, TLSA 3 1 1 matching");
        mail.assertDelivered(a);
        SentMail.assertLogged(a, "Verified TLS connection established to "
                + "mx.dane-good.test[127.0.2.10]:25");
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

    // --- What the TLS-RPT sender is told --------------------------------------------------

    /**
     * After Postfix's lookups, the daemon's "tlsrpt" map (what the TLS-RPT sender asks, here
     * with Postfix's own postmap) names the policy each domain's sessions count under, with
     * the TLSRPT attributes Postfix 3.7's replies lack, testing policies included.
     */
    @Test
    @Order(15)
    void reportPoliciesOfTheDomainsPostfixAsked() throws Exception {
        Postmap postmap = new Postmap(dir.resolve("postmap"));
        String table = "socketmap:inet:127.0.0.1:" + daemon.port() + ":tlsrpt";
        Postmap.Result testing = postmap.query("sts-testing.test", table);
        assertEquals(0, testing.exitCode(), testing.toString());
        assertTrue(testing.out().contains("policy_type=sts policy_domain=sts-testing.test "
                + "mx_host_pattern=mx.sts-testing.test"), testing.out());
        assertTrue(testing.out().contains("{ policy_string = mode: testing }"), testing.out());
        Postmap.Result dane = postmap.query("dane-good.test", table);
        assertTrue(dane.out().startsWith("dane-only policy_type=tlsa policy_domain="
                + "dane-good.test mx_host_pattern=mx.dane-good.test { policy_string = 3 1 1 "),
                dane.toString());
        assertEquals(1, postmap.query("nopolicy.test", table).exitCode(), "NOTFOUND");
    }

    // --- Resilience ----------------------------------------------------------------------

    @Test
    @Order(20)
    void cachedPolicyStaysEnforcedAcrossPolicyHostOutageAndRestart() throws Exception {
        SentMail.Attempt first = mail.deliver("cached", "olivia", "mta-sts enforce, policy fetched");
        mail.assertDeferred(first, "Server certificate not verified");

        world.policyHost("cached.test").close();
        SentMail.Attempt hostDown = mail.deliver("cached", "peggy", "mta-sts enforce, policy host down, "
                + "policy cached");
        mail.assertDeferred(hostDown, "Server certificate not verified");

        daemon.signal("TERM");
        assertEquals(143, daemon.awaitExit(30)); // README: 143 after a graceful SIGTERM
        daemon = DaemonProcess.serve(daemonConfig);
        SentMail.Attempt restarted = mail.deliver("cached", "rupert", "mta-sts enforce, daemon restarted "
                + "while the policy host is down");
        mail.assertDeferred(restarted, "Server certificate not verified");
    }

    @Test
    @Order(21)
    void mailWaitsWhileTheDaemonIsDownAndGoesWhenItIsBack() throws Exception {
        daemon.signal("TERM");
        assertEquals(143, daemon.awaitExit(30)); // README: 143 after a graceful SIGTERM
        // To a domain that would go out at once with the daemon up (opportunistic TLS).
        SentMail.Attempt down = mail.deliver("nopolicy", "sybil", "tlspolicyd not running");
        mail.assertDeferred(down, "client TLS configuration problem");
        SentMail.assertLogged(down, "lookup error: Connection refused");

        daemon = DaemonProcess.serve(daemonConfig);
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
    @Order(25)
    void unixSocketVariantServesAChrootedSmtp() throws Exception {
        Path privateDir = Files.createDirectories(dir.resolve("spool-private"));
        Path socket = privateDir.resolve("tlspolicy");
        Path config = Files.writeString(dir.resolve("tlspolicyd-unix.yml"), """
                socketmap:
                  listen: []
                  # The container's postfix user is not this host's: any local user may connect.
                  unix_socket: {path: "%s", mode: "0666"}
                dns: {servers: ["%s"], timeout: 2s, attempts: 1}
                mta_sts: {extra_ca_file: "%s"}
                dane: {dnssec: resolver}
                cache: {path: "%s"}
                tlsrpt: "off"
                """.formatted(socket, MailWorld.RESOLVER.getAddress().getHostAddress(),
                world.caFile(), dir.resolve("cache-unix.db")));
        try (DaemonProcess unixDaemon = DaemonProcess.serve(config);
             PostfixContainer chrooted = world.startUnixSocketSender(privateDir)) {
            assertEquals("y\n", chrooted.exec("postconf", "-Fh", "smtp/unix/chroot"),
                    "Debian's smtp(8) runs chrooted");
            assertEquals("socketmap:unix:private/tlspolicy:postfix\n",
                    chrooted.exec("postconf", "-h", "smtp_tls_policy_maps"));
            PostfixLog log = chrooted.log();
            int mark = log.mark();
            chrooted.send(FROM, "tina@sts-wrongname.test", "unix socket, mta-sts enforce");
            PostfixLog.Delivery enforced = log.awaitDelivery("tina@sts-wrongname.test", mark, 60);
            assertTrue(enforced.deferred(), enforced.line());
            assertEquals("Server certificate not verified", enforced.reason());
            chrooted.send(FROM, "uma@sts-good.test", "unix socket, mta-sts enforce, valid");
            PostfixLog.Delivery sent = log.awaitDelivery("uma@sts-good.test", mark, 60);
            assertTrue(sent.sent(), sent.line());
            assertTrue(log.linesSince(mark).stream().noneMatch(l -> l.contains("lookup error")),
                    String.join("\n", log.linesSince(mark)));
        }
    }

    // --- TLS-RPT: the sender reads this Postfix's log ------------------------------------

    private static DaemonProcess.Result sender(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("--store",
                dir.resolve("tlsrpt.db").toString()));
        command.addAll(List.of(args));
        return DaemonProcess.runJar(Path.of(System.getProperty("tlsrpt-sender.jar",
                "../tlsrpt-sender/target/tlsrpt-sender.jar")), command);
    }

    private static void collectSenderLog() throws Exception {
        DaemonProcess.Result collect = sender("collect", "--once", "--timezone", "UTC",
                "--log", dir.resolve("sender/log/mail.log").toString(),
                "--policy-server", "inet:127.0.0.1:" + daemon.port());
        assertEquals(0, collect.exitCode(), collect.toString());
    }

    private static String todaysReports() throws Exception {
        String day = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
        DaemonProcess.Result report = sender("report", "--dry-run", "--day", day,
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
    @Order(30)
    void tlsrptSenderReportsWhatPostfixLogged() throws Exception {
        collectSenderLog();
        String json = todaysReports();
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
        collectSenderLog();
        assertEquals(json, todaysReports(), "a second collect counts nothing twice");
    }
}
