package org.tlspolicy.tlsrpt.deliver;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.TestCa;
import org.tlspolicy.tlsrpt.cli.Main;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.Delivery;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tlsrpt-sender send} against real servers on loopback: knotd publishing the domains'
 * TLSRPT records, an HTTPS collector (the JDK's HTTPS server, test CA), and an SMTP server
 * (Python's smtpd, Debian's python3) standing in for the local MTA; report mail is checked by
 * Python's email package and python3-dkim. Then crashes: the sender killed with SIGKILL before,
 * during and after handing a report over, and started again.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SendTest {

    private static final LocalDate YESTERDAY = LocalDate.now(ZoneOffset.UTC).minusDays(1);

    @TempDir
    Path dir;

    private TestCa ca;
    private ReportCollector collector;
    private KnotServer knot;
    private Process smtpSink;
    private int smtpPort;
    private Path db;
    private Path caFile;
    private Path keyFile;
    private String dkimRecord;

    private static final String SINK = """
            import sys, smtpd, asyncore, os
            class Sink(smtpd.SMTPServer):
                n = 0
                def process_message(self, peer, mailfrom, rcpttos, data, **kw):
                    Sink.n += 1
                    name = os.path.join(sys.argv[2], '%03d-%s.eml' % (Sink.n, rcpttos[0]))
                    with open(name + '.tmp', 'wb') as f:
                        f.write(data)
                    os.rename(name + '.tmp', name)
            Sink(('127.0.0.1', int(sys.argv[1])), None, decode_data=False)
            print('ready', flush=True)
            asyncore.loop()
            """;

    /** Issue 34, finding 1: a mailto rua that carries SMTP commands and a message. */
    static final String HOSTILE_RUA = "mailto:victim@victim.test%3E%0D%0ADATA%0D%0AFrom:"
            + "%20boss@victim.test%0D%0ASubject:%20pay%0D%0A%0D%0Apay%20now%0D%0A.%0D%0AMAIL"
            + "%09FROM:%3Cx@attacker.test%3E%0D%0ARCPT%20TO:%3Cy@attacker.test%3E";

    /** A TCP listener that accepts and never answers: an https rua that hangs. */
    private ServerSocket hang;

    private String hanging() throws IOException {
        hang = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        String base = "https://hang.test:" + hang.getLocalPort();
        return base + "/a," + base + "/b," + base + "/c";
    }

    @BeforeEach
    void world() throws Exception {
        ca = TestCa.create("report collector CA");
        caFile = ca.writePem(dir.resolve("ca.pem"));
        collector = new ReportCollector(ca);
        Map<String, String> zones = Map.of("test.", """
                $ORIGIN test.
                $TTL 60
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 60
                @ NS ns.test.
                ns A 127.0.0.1
                _smtp._tls.https TXT "v=TLSRPTv1; rua=%s"
                _smtp._tls.mail TXT "v=TLSRPTv1;" " rua=mailto:tlsrpt@mail.test"
                _smtp._tls.two TXT "v=TLSRPTv1; rua=mailto:a@two.test"
                _smtp._tls.two TXT "v=TLSRPTv1; rua=mailto:b@two.test"
                _smtp._tls.evil TXT "v=TLSRPTv1; rua=%s,mailto:tlsrpt@evil.test"
                _smtp._tls.slow TXT "v=TLSRPTv1; rua=%s"
                hang A 127.0.0.1
                """.formatted(collector.uri(), HOSTILE_RUA, hanging()) + ReportCollector.ZONE_RECORD);
        knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")), zones);
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            smtpPort = s.getLocalPort();
        }
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path sink = Files.writeString(dir.resolve("sink.py"), SINK);
        smtpSink = new ProcessBuilder("/usr/bin/python3", "-W", "ignore", sink.toString(),
                Integer.toString(smtpPort), inbox.toString()).redirectErrorStream(true).start();
        assertEquals("ready", new String(smtpSink.getInputStream().readNBytes(5),
                StandardCharsets.US_ASCII));
        KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] pub = keys.getPublic().getEncoded();
        dkimRecord = "v=DKIM1; k=ed25519; p=" + Base64.getEncoder().encodeToString(
                Arrays.copyOfRange(pub, pub.length - 32, pub.length));
        keyFile = Files.writeString(dir.resolve("dkim.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(
                keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        // As docs/tlsrpt.md makes it: the sender's own, 0400.
        Files.setPosixFilePermissions(keyFile, java.nio.file.attribute.PosixFilePermissions
                .fromString("r--------"));
        db = dir.resolve("tlsrpt.db");
        AppliedPolicy p = new AppliedPolicy(PolicyType.STS, "x", List.of("version: STSv1",
                "mode: enforce"), List.of("mx.x"));
        try (SessionStore store = SessionStore.open(db)) {
            List<SessionCount> counts = new ArrayList<>();
            for (String d : List.of("https.test", "mail.test", "norua.test", "two.test")) {
                AppliedPolicy dp = new AppliedPolicy(p.type(), d, p.strings(), p.mxHosts());
                counts.add(new SessionCount(YESTERDAY, dp, new SessionResult.Success(), "", "",
                        10));
                counts.add(new SessionCount(YESTERDAY, dp, new SessionResult.Failure(
                        ResultType.STARTTLS_NOT_SUPPORTED, "TLS is required, but was not "
                        + "offered"), "mx." + d, "192.0.2.7", 2));
            }
            store.add(counts, "test", "end");
        }
    }

    @AfterEach
    void stop() throws Exception {
        hang.close();
        collector.close();
        knot.close();
        smtpSink.destroyForcibly().waitFor();
    }

    private List<String> sendArgs(String dns) {
        return List.of("--store", db.toString(), "send", "--organization", "Sender Org",
                "--contact", "mailto:postmaster@sender.test", "--submitter", "sender.test",
                "--from", "tlsrpt-noreply@sender.test", "--smtp", "127.0.0.1:" + smtpPort,
                "--dkim-key", keyFile.toString(), "--dkim-selector", "sel", "--dns", dns,
                "--allow-private-destinations", "--ca-file", caFile.toString());
    }

    private String knotDns() {
        return "127.0.0.1:" + knot.address().getPort();
    }

    /** Runs send; returns what it printed. */
    private String send() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(sendArgs(knotDns()).toArray(String[]::new), new PrintWriter(out),
                new PrintWriter(err));
        assertEquals(0, code, out + "\n" + err);
        return out.toString();
    }

    private List<Delivery> deliveries() throws Exception {
        try (SessionStore s = SessionStore.open(db)) {
            return s.deliveries();
        }
    }

    private String state(String domain) throws Exception {
        return deliveries().stream().filter(d -> d.domain().equals(domain))
                .map(Delivery::state).findFirst().orElse("none");
    }

    private List<Path> inbox() throws Exception {
        try (Stream<Path> f = Files.list(dir.resolve("inbox"))) {
            return f.filter(p -> p.toString().endsWith(".eml")).sorted().toList();
        }
    }

    @Test
    void reportsGoOnceToEachDestinationByHttpsAndByMail() throws Exception {
        send();
        assertEquals(1, collector.reportIds().size(), collector.reportIds().toString());
        assertTrue(collector.reportIds().get(0).startsWith(YESTERDAY + "T00:00:00Z_https.test_"));
        assertEquals(List.of("application/tlsrpt+gzip"), collector.contentTypes());
        List<Path> mail = inbox();
        assertEquals(1, mail.size(), mail.toString());
        assertTrue(mail.get(0).getFileName().toString().endsWith("tlsrpt@mail.test.eml"));
        // The mail as the MTA got it: MIME and DKIM checked by Python's email and dkimpy.
        Path verify = Files.writeString(dir.resolve("verify.py"), """
                import sys, email, email.policy, dkim
                msg = open(sys.argv[1], 'rb').read()
                rec = sys.argv[2].encode()
                dns = lambda name, timeout=5: rec
                m = email.message_from_bytes(msg, policy=email.policy.default)
                print(dkim.verify(msg, dnsfunc=dns), m['TLS-Report-Domain'],
                      [p.get_content_type() for p in m.iter_parts()])
                """);
        Process p = new ProcessBuilder("/usr/bin/python3", verify.toString(),
                mail.get(0).toString(), dkimRecord).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("True mail.test ['text/plain', 'application/tlsrpt+gzip']", out.strip());
        assertEquals("sent", state("https.test"));
        assertEquals("sent", state("mail.test"));
        assertEquals("no-rua", state("norua.test"));
        // RFC 8460 §3: two TLSRPT records is none.
        assertEquals("no-rua", state("two.test"));
        // Run again: nothing is sent twice, and it says why.
        assertEquals("nothing to send: 4 report(s) already planned by an earlier run (sent, "
                + "given up, or waiting to be retried: see status)\n", send());
        assertEquals(1, collector.reportIds().size());
        assertEquals(1, inbox().size());
    }

    @Test
    void sendSaysWhyItPlannedNothing() throws Exception {
        Files.delete(db);
        assertEquals("nothing to send: no sessions recorded\n", send());
        AppliedPolicy p = new AppliedPolicy(PolicyType.STS, "old.test", List.of(
                "version: STSv1", "mode: enforce"), List.of("mx.old.test"));
        try (SessionStore store = SessionStore.open(db)) {
            store.add(List.of(new SessionCount(YESTERDAY.minusDays(5), p,
                    new SessionResult.Success(), "", "", 3)), "test", "old");
        }
        assertEquals("nothing to send: no sessions recorded for the finished days of the last "
                + "3; those of days older than --give-up-days (3) are not reported any more\n",
                send());
        try (SessionStore store = SessionStore.open(db)) {
            store.add(List.of(new SessionCount(YESTERDAY.plusDays(1), p,
                    new SessionResult.Success(), "", "", 3)), "test", "today");
        }
        assertEquals("nothing to send: no sessions recorded for the finished days of the last "
                + "3; today's are reported once the day is over (UTC); those of days older "
                + "than --give-up-days (3) are not reported any more\n", send());
        assertEquals(0, collector.reportIds().size());
        assertEquals(List.of(), inbox());
    }

    /**
     * Report mail through Debian's Postfix sendmail(1) and postdrop into the maildrop queue of
     * a Postfix instance of the test's own ({@code sendmail -C DIR}, its queue in the test
     * directory; no Postfix daemon needs to run), read back with postcat.
     */
    @Test
    void reportMailGoesThroughPostfixSendmail() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("postfix"));
        // post-install fills the queue and data directories in, but does not make them.
        Path queue = Files.createDirectories(dir.resolve("queue"));
        Files.createDirectories(dir.resolve("postfix-data"));
        Files.copy(Path.of("/usr/share/postfix/master.cf.dist"), conf.resolve("master.cf"));
        Files.writeString(conf.resolve("main.cf"), """
                queue_directory = %s
                data_directory = %s
                compatibility_level = 3.6
                myhostname = sender.test
                """.formatted(queue, dir.resolve("postfix-data")));
        Process setup = new ProcessBuilder("/usr/sbin/postfix", "-c", conf.toString(),
                "post-install", "create-missing").redirectErrorStream(true).start();
        String setupOut = new String(setup.getInputStream().readAllBytes());
        assertTrue(setup.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, setup.exitValue(), setupOut);
        List<String> args = new ArrayList<>(sendArgs(knotDns()));
        args.addAll(List.of("--sendmail", "/usr/sbin/sendmail -C " + conf));
        StringWriter out = new StringWriter();
        assertEquals(0, Main.run(args.toArray(String[]::new), new PrintWriter(out),
                new PrintWriter(out)), out.toString());
        assertEquals("sent", state("mail.test"));
        List<Path> dropped;
        try (Stream<Path> f = Files.list(queue.resolve("maildrop"))) {
            dropped = f.toList();
        }
        assertEquals(1, dropped.size(), dropped.toString());
        Process cat = new ProcessBuilder("/usr/sbin/postcat", "-c", conf.toString(),
                dropped.get(0).toString()).redirectErrorStream(true).start();
        String queued = new String(cat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(cat.waitFor(30, TimeUnit.SECONDS));
        assertTrue(queued.contains("sender: tlsrpt-noreply@sender.test"), queued);
        assertTrue(queued.contains("recipient: tlsrpt@mail.test"), queued);
        assertTrue(queued.contains("TLS-Report-Domain: mail.test"), queued);
        assertTrue(queued.contains("DKIM-Signature: v=1; a=ed25519-sha256;"), queued);
        assertEquals(List.of(), inbox(), "nothing went by SMTP");
    }

    @Test
    void serverErrorsAreRetriedLaterClientErrorsNot() throws Exception {
        collector.respond(503);
        send();
        Delivery d = deliveries().stream().filter(x -> x.domain().equals("https.test"))
                .findFirst().orElseThrow();
        assertEquals("pending", d.state());
        assertEquals("HTTP 503", d.lastError());
        assertTrue(d.nextAttempt() > System.currentTimeMillis() + 5 * 60_000L, d.toString());
        send(); // not due yet: no new request
        assertEquals(1, collector.reportIds().size());
        // Due now: a 4xx is final.
        try (SessionStore s = SessionStore.open(db)) {
            s.update(new Delivery(d.day(), d.domain(), d.destination(), d.reportId(),
                    d.state(), d.attempts(), 0, d.lastError()));
        }
        collector.respond(400);
        send();
        assertEquals("failed", state("https.test"));
        assertEquals(2, collector.reportIds().size());
        assertEquals(collector.reportIds().get(0), collector.reportIds().get(1),
                "the same report-id on every attempt");
        send();
        assertEquals(2, collector.reportIds().size(), "failed is final");
    }

    /** The sender as its own JVM, as systemd runs it, to be killed with SIGKILL. */
    private Process sendProcess(String dns, boolean pauseAfterDelivery) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command()
                .orElse("java")));
        if (pauseAfterDelivery) {
            cmd.add("-Dtlsrpt.sender.pauseAfterDeliveryMillis=60000");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(sendArgs(dns));
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("send-" + System.nanoTime() + ".log").toFile())
                .start();
    }

    private static void kill9(Process p) throws Exception {
        new ProcessBuilder("kill", "-KILL", Long.toString(p.pid())).start().waitFor();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
    }

    private void awaitRequests(int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (collector.reportIds().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(n, collector.reportIds().size(), collector.reportIds().toString());
    }

    @Test
    void killedBeforeSendingSendsOnceAfterRestart() throws Exception {
        // DNS that never answers: the sender is stuck discovering rua, nothing sent yet.
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Process p = sendProcess("127.0.0.1:" + silent.getLocalPort(), false);
            Thread.sleep(3000);
            assertTrue(p.isAlive());
            kill9(p);
        }
        assertEquals(0, collector.reportIds().size());
        send();
        assertEquals(1, collector.reportIds().size());
        assertEquals("sent", state("https.test"));
    }

    @Test
    void killedDuringSendingSendsTheSameReportAgain() throws Exception {
        collector.holdRequests();
        Process p = sendProcess(knotDns(), false);
        awaitRequests(1); // the collector has the report, the sender waits for the answer
        assertEquals("sending", state("https.test"));
        kill9(p);
        collector.release();
        send();
        awaitRequests(2);
        assertEquals(collector.reportIds().get(0), collector.reportIds().get(1));
        assertEquals("sent", state("https.test"));
        send();
        assertEquals(2, collector.reportIds().size(), "confirmed: never again");
    }

    @Test
    void killedAfterSendingBeforeRecordingItSendsTheSameReportAgain() throws Exception {
        Process p = sendProcess(knotDns(), true);
        awaitRequests(1); // answered 200; the sender pauses before marking it sent
        Thread.sleep(500);
        assertEquals("sending", state("https.test"));
        kill9(p);
        send();
        awaitRequests(2);
        assertEquals(collector.reportIds().get(0), collector.reportIds().get(1),
                "unconfirmed: sent again with the same report-id");
        send();
        assertEquals(2, collector.reportIds().size());
    }

    /** The Report-ID of every message the SMTP server received, in order. */
    private List<String> mailedReportIds() throws Exception {
        List<String> ids = new ArrayList<>();
        for (Path m : inbox()) {
            String text = Files.readString(m, StandardCharsets.US_ASCII);
            int at = text.indexOf("Report-ID: <");
            ids.add(at < 0 ? "(none)" : text.substring(at + 12, text.indexOf('>', at)));
        }
        return ids;
    }

    @Test
    void mailKilledAfterHandOverBeforeRecordingItIsSentAgainOnce() throws Exception {
        collector.respond(400); // the https report fails for good at once: mail comes next
        Process p = sendProcess(knotDns(), true);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (inbox().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(1, inbox().size(), "the MTA has the report");
        Thread.sleep(500);
        assertEquals("sending", state("mail.test"));
        kill9(p);
        send();
        List<String> ids = mailedReportIds();
        assertEquals(2, ids.size(), ids.toString());
        assertEquals(ids.get(0), ids.get(1), "unconfirmed: sent again with the same report-id");
        assertEquals("sent", state("mail.test"));
        send();
        assertEquals(2, inbox().size(), "confirmed: never again");
    }

    private void countYesterday(String... domains) throws Exception {
        AppliedPolicy p = new AppliedPolicy(PolicyType.STS, "x", List.of("version: STSv1",
                "mode: enforce"), List.of("mx.x"));
        try (SessionStore store = SessionStore.open(db)) {
            List<SessionCount> counts = new ArrayList<>();
            for (String d : domains) {
                counts.add(new SessionCount(YESTERDAY, new AppliedPolicy(p.type(), d,
                        p.strings(), p.mxHosts()), new SessionResult.Success(), "", "", 1));
            }
            store.add(counts, "test", "more-" + System.nanoTime());
        }
    }

    /**
     * Issue 34, finding 1: the record's hostile mailto gives no mail and no delivery; its
     * clean neighbour still gets its report. (The same against a real Postfix, with the log
     * line: integration-tests ReportMailInjectionTest.)
     */
    @Test
    void aMailtoCarryingCommandsSendsNothing() throws Exception {
        countYesterday("evil.test");
        send();
        List<Delivery> evil = deliveries().stream().filter(d -> d.domain().equals("evil.test"))
                .toList();
        assertEquals(List.of("mailto:tlsrpt@evil.test"), evil.stream()
                .map(Delivery::destination).toList());
        assertEquals("sent", evil.get(0).state());
        List<String> to = inbox().stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(2, to.size(), to.toString());
        assertTrue(to.stream().noneMatch(n -> n.contains("victim") || n.contains("attacker")),
                to.toString());
        for (Path m : inbox()) {
            String text = Files.readString(m, StandardCharsets.US_ASCII);
            assertFalse(text.contains("victim") || text.contains("pay now"), text);
        }
    }

    /** Issue 34, finding 4: an https rua on loopback is refused unless the test option says. */
    @Test
    void anHttpsRuaOnLoopbackIsRefusedByDefault() throws Exception {
        List<String> args = new ArrayList<>(sendArgs(knotDns()));
        args.remove("--allow-private-destinations");
        StringWriter out = new StringWriter();
        assertEquals(0, Main.run(args.toArray(String[]::new), new PrintWriter(out),
                new PrintWriter(out)), out.toString());
        Delivery d = deliveries().stream().filter(x -> x.domain().equals("https.test"))
                .findFirst().orElseThrow();
        assertEquals("failed", d.state());
        assertTrue(d.lastError().startsWith("refused: collector.test resolves to no global "
                + "unicast address (127.0.0.1 loopback)"), d.lastError());
        assertEquals(List.of(), collector.reportIds(), "nothing reached the collector");
        assertEquals("sent", state("mail.test"), "mail still goes");
    }

    /**
     * Issue 34, finding 3: a domain whose three https endpoints hang uses up its time budget
     * with two attempts; the other domains' reports go first or between, and its third
     * endpoint waits for the next run, not attempted.
     */
    @Test
    void aDomainWithHangingEndpointsCannotHoldUpTheOthers() throws Exception {
        countYesterday("slow.test");
        org.xbill.DNS.SimpleResolver dns = new org.xbill.DNS.SimpleResolver(
                knot.address().getAddress());
        dns.setPort(knot.address().getPort());
        HttpsPost https = new HttpsPost(Trust.context(caFile),
                dns, true, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1));
        ReportSender.Mail mail = new ReportSender.Mail(
                org.tlspolicy.smtp.Mailbox.parse("tlsrpt-noreply@sender.test"),
                new SmtpSubmission(new java.net.InetSocketAddress("127.0.0.1", smtpPort),
                        org.tlspolicy.smtp.Domain.parse("sender.test"),
                        java.time.Duration.ofSeconds(10)), java.util.Optional.empty());
        try (SessionStore store = SessionStore.open(db)) {
            ReportSender.Summary sum = new ReportSender(store, new RuaLookup(dns),
                    new org.tlspolicy.tlsrpt.report.TlsReport.Submitter("Org",
                            "mailto:postmaster@sender.test", "sender.test", ""), mail, https,
                    java.time.Instant::now, 3, 31, java.time.Duration.ofMillis(1500)).run();
            assertEquals(2, sum.sent(), sum.toString()); // https.test and mail.test
            assertEquals(2, sum.retry(), sum.toString()); // two of slow.test's, timed out
        }
        List<Delivery> slow = deliveries().stream().filter(d -> d.domain().equals("slow.test"))
                .toList();
        assertEquals(3, slow.size());
        assertEquals(List.of(1, 1, 0), slow.stream().map(Delivery::attempts).toList(),
                slow.toString());
        assertEquals("sent", state("https.test"));
        assertEquals("sent", state("mail.test"));
    }

    @Test
    void domainsTakeTurns() {
        java.util.function.BiFunction<String, String, Delivery> d = (domain, to) ->
                new Delivery(YESTERDAY, domain, to, "id", "pending", 0, 0, "");
        List<Delivery> order = ReportSender.inTurn(List.of(d.apply("a", "1"), d.apply("a", "2"),
                d.apply("a", "3"), d.apply("b", "1"), d.apply("c", "1"), d.apply("c", "2")));
        assertEquals(List.of("a1", "b1", "c1", "a2", "c2", "a3"), order.stream()
                .map(x -> x.domain() + x.destination()).toList());
    }

    /**
     * Issue 35, §6: {@code send --check} says, line by line, what is wrong before anything is
     * sent; the shipped example.net placeholders are refused by send itself too, which then
     * sends nothing.
     */
    @Test
    void theShippedPlaceholdersAreRefusedAndCheckSaysWhy() throws Exception {
        List<String> placeholders = List.of("--store", db.toString(), "send", "--organization",
                "Example Org", "--contact", "mailto:postmaster@example.net", "--submitter",
                "example.net", "--from", "tlsrpt-noreply@example.net", "--smtp",
                "127.0.0.1:" + smtpPort, "--dns", knotDns());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(1, Main.run(placeholders.toArray(String[]::new), new PrintWriter(out),
                new PrintWriter(err)));
        assertTrue(err.toString().contains("FAIL  --submitter example.net is the shipped "
                + "placeholder"), err.toString());
        assertTrue(err.toString().contains("not sending until the settings above are fixed"),
                err.toString());
        assertEquals(List.of(), inbox());
        assertEquals(List.of(), deliveries());

        List<String> check = new ArrayList<>(sendArgs(knotDns()));
        check.add("--check");
        out = new StringWriter();
        assertEquals(0, Main.run(check.toArray(String[]::new), new PrintWriter(out),
                new PrintWriter(out)), out.toString());
        assertTrue(out.toString().contains("ok    --dkim-key " + keyFile + ": Ed25519"),
                out.toString());
        assertTrue(out.toString().contains("ok    --smtp 127.0.0.1:" + smtpPort + " greets: 220"),
                out.toString());
        assertEquals(List.of(), deliveries(), "--check sends nothing");

        Files.setPosixFilePermissions(keyFile, java.nio.file.attribute.PosixFilePermissions
                .fromString("rw-rw----"));
        out = new StringWriter();
        assertEquals(1, Main.run(check.toArray(String[]::new), new PrintWriter(out),
                new PrintWriter(out)), out.toString());
        assertTrue(out.toString().contains("FAIL  --dkim-key " + keyFile + ": --dkim-key "
                + keyFile + " is writable by group"), out.toString());
    }
}
