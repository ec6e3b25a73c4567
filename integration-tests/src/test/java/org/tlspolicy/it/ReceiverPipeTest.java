package org.tlspolicy.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.tlsrpt.deliver.DkimSigner;
import org.tlspolicy.tlsrpt.deliver.ReportMail;
import org.tlspolicy.tlsrpt.receiver.ReceivedStore;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.store.SessionCount;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 31 §2 with a real Postfix, 3.7 and 3.10, and the installed package: report mails
 * made and DKIM-signed by tlsrpt-sender itself go through the pipe(8) transport of
 * postfix-conf/tlsrpt-receiver.master.cf (as user tlsrpt-receiver) into the receiver's spool,
 * and the ingest the path unit runs takes them in; through an alias, {@code tlsrpt-receiver
 * ingest} takes one directly (as it can where Postfix runs without MemoryDenyWriteExecute). The report is stored byte for byte, its signature
 * verifies against the key in the world's DNS (knotd), the same mail again counts once, a
 * broken one is quarantined and delivered (no bounce to the reporter), and {@code summary
 * --json} has the report's figures.
 */
@Timeout(value = 400, unit = TimeUnit.SECONDS)
class ReceiverPipeTest {

    static final TlsReport.Submitter SUBMITTER = new TlsReport.Submitter("Sender Org",
            "mailto:postmaster@sender.test", "sender.test", "192.0.2.25");

    @TempDir
    Path dir;

    static TlsReport report(LocalDate day) {
        AppliedPolicy p = new AppliedPolicy(PolicyType.STS, "example.net", List.of(
                "version: STSv1", "mode: testing", "mx: mx.example.net", "max_age: 86400"),
                List.of("mx.example.net"));
        return TlsReport.build(SUBMITTER, "example.net", day, List.of(
                new SessionCount(day, p, new SessionResult.Success(), "", "", 4711),
                new SessionCount(day, p, new SessionResult.Failure(
                        ResultType.CERTIFICATE_EXPIRED, "certificate has expired"),
                        "mx2.example.net", "192.0.2.1", 41)));
    }

    /** The documented master.cf lines. */
    static String masterCf() throws Exception {
        String lines = Files.readString(Path.of("../postfix-conf/tlsrpt-receiver.master.cf"));
        if (!lines.contains("argv=/usr/lib/tlsrpt-receiver/spool")) {
            throw new IllegalStateException("postfix-conf/tlsrpt-receiver.master.cf no longer "
                    + "has the line this test runs");
        }
        return lines;
    }

    @ParameterizedTest
    @EnumSource(PostfixRelease.class)
    void reportMailThroughPipeIsStoredOnceAndVerified(PostfixRelease release) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair key = g.generateKeyPair();
        String txt = "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(
                key.getPublic().getEncoded());
        LocalDate day = LocalDate.now(ZoneOffset.UTC).minusDays(1);
        TlsReport sent = report(day);
        Instant now = Instant.now();
        byte[] mail = new DkimSigner("sender.test", "sel", key.getPrivate()).sign(
                ReportMail.build(sent, SUBMITTER, Mailbox.parse("tlsrpt-noreply@sender.test"),
                        Mailbox.parse("tlsrpt@example.net"), now), now);
        byte[] viaAlias = new DkimSigner("sender.test", "sel", key.getPrivate()).sign(
                ReportMail.build(report(day.minusDays(1)), SUBMITTER,
                        Mailbox.parse("tlsrpt-noreply@sender.test"),
                        Mailbox.parse("tlsrpt-alias@local.example.net"), now), now);
        byte[] broken = ("From: <reports@sender.test>\r\nTo: <tlsrpt@example.net>\r\n"
                + "Subject: not a report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report;"
                + " report-type=tlsrpt; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n"
                + "\r\nno report here\r\n--x--\r\n").getBytes();
        // The DKIM key in DNS, with a TXT record longer than one string: split as DNS does.
        StringBuilder quoted = new StringBuilder();
        for (int i = 0; i < txt.length(); i += 200) {
            quoted.append('"').append(txt, i, Math.min(txt.length(), i + 200)).append("\" ");
        }
        try (KnotServer knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                Map.of("sender.test.", """
                        $ORIGIN sender.test.
                        $TTL 60
                        @ SOA ns.sender.test. hostmaster.sender.test. 1 3600 900 604800 60
                        @ NS ns.sender.test.
                        ns A 127.0.0.1
                        sel._domainkey TXT %s
                        """.formatted(quoted)));
             GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(
                     release.packageTestImage()))
                     .withNetworkMode("host")
                     .withCopyFileToContainer(MountableFile.forHostPath(DebianPackageTest.deb()),
                             "/tmp/tlspolicy.deb")
                     .waitingFor(ContainerShell.noWait())) {
            c.start();
            ContainerShell.run(c, "DEBIAN_FRONTEND=noninteractive apt-get install -y "
                    + "/tmp/tlspolicy.deb >/dev/null");
            Files.writeString(dir.resolve("master.cf"), masterCf());
            c.copyFileToContainer(MountableFile.forHostPath(dir.resolve("master.cf")),
                    "/tmp/receiver.master.cf");
            // The alias variant: an alias map owned by tlsrpt-receiver, so that local(8) runs
            // the command as that user (docs/receiver.md).
            ContainerShell.run(c, """
                    cat > /etc/postfix/main.cf <<'EOF'
                    compatibility_level = 3.6
                    myhostname = mx.example.net
                    mydestination = local.example.net
                    inet_interfaces = loopback-only
                    inet_protocols = ipv4
                    maillog_file = /var/log/postfix.log
                    transport_maps = hash:/etc/postfix/transport
                    alias_maps = hash:/etc/aliases, hash:/etc/postfix/tlsrpt-aliases
                    alias_database = hash:/etc/aliases, hash:/etc/postfix/tlsrpt-aliases
                    EOF
                    cat /tmp/receiver.master.cf >> /etc/postfix/master.cf
                    postconf -MX smtp/inet
                    echo 'tlsrpt@example.net tlsrpt-receiver:' > /etc/postfix/transport
                    postmap /etc/postfix/transport
                    echo 'tlsrpt-alias: "|/usr/bin/tlsrpt-receiver --dns 127.0.0.1:PORT ingest"' \\
                        > /etc/postfix/tlsrpt-aliases
                    sed -i "s/PORT/%d/" /etc/postfix/tlsrpt-aliases
                    touch /etc/aliases && newaliases
                    chown tlsrpt-receiver: /etc/postfix/tlsrpt-aliases.db
                    postfix check && postfix start
                    """.formatted(knot.address().getPort()));
            for (byte[] m : List.of(mail, broken, mail, viaAlias)) {
                Files.write(dir.resolve("m.eml"), m);
                c.copyFileToContainer(MountableFile.forHostPath(dir.resolve("m.eml")),
                        "/tmp/m.eml");
                ContainerShell.run(c, "/usr/sbin/sendmail -i -f reports@sender.test -t "
                        + "< /tmp/m.eml");
            }
            // Four deliveries, each status=sent: three queued in the spool (the report, the
            // broken mail, the report again: none bounces), and the alias's, taken in at once.
            String log = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                log = ContainerShell.run(c, "cat /var/log/postfix.log 2>/dev/null || true");
                if (log.lines().filter(l -> l.contains("status=sent")).count() >= 4) {
                    break;
                }
                Thread.sleep(500);
            }
            List<String> delivered = log.lines().filter(l -> l.contains("status=")).toList();
            assertEquals(4, delivered.stream().filter(l -> l.contains("status=sent")).count(),
                    log);
            assertEquals(3, delivered.stream().filter(l -> l.contains("relay=tlsrpt-receiver"))
                    .count(), log);
            assertTrue(delivered.stream().anyMatch(l -> l.contains("to=<tlsrpt-alias@local.example.net>")
                    && l.contains("relay=local")), log);
            assertEquals("3\n", ContainerShell.run(c, "ls /var/lib/tlsrpt-receiver/spool/new "
                    + "| wc -l"));
            // What tlsrpt-receiver-ingest.path starts (no systemd in this container).
            String ingested = ContainerShell.run(c, "runuser -u tlsrpt-receiver -- "
                    + "tlsrpt-receiver --dns 127.0.0.1:" + knot.address().getPort()
                    + " ingest --maildir /var/lib/tlsrpt-receiver/spool --delete");
            assertEquals("stored 1, duplicate 1, rejected 1\n", ingested);
            assertEquals("0\n", ContainerShell.run(c, "find /var/lib/tlsrpt-receiver/spool "
                    + "-type f | wc -l"));

            String summary = ContainerShell.run(c, "runuser -u tlsrpt-receiver -- "
                    + "tlsrpt-receiver summary --json --days 5");
            JsonNode d = new ObjectMapper().readTree(summary).get("domains").get(0);
            assertEquals("example.net", d.get("policy-domain").asText());
            assertEquals(2 * 4711, d.get("total-successful-session-count").asLong(), summary);
            assertEquals(2 * 41, d.get("total-failure-session-count").asLong(), summary);
            assertEquals(2, d.get("reports").asLong(), summary);
            assertEquals(2, d.get("reports-dkim-pass").asLong(), summary);
            assertEquals(82, d.at("/failures-by-result-type/certificate-expired").asLong());
            // The refused mail, whole, with its reason; state is the receiver's alone.
            assertEquals("1\n", ContainerShell.run(c, "ls /var/lib/tlsrpt-receiver/quarantine/"
                    + "*.eml | wc -l"));
            assertTrue(ContainerShell.run(c, "cat /var/lib/tlsrpt-receiver/quarantine/*.reason")
                    .startsWith("no report part"));
            assertEquals("tlsrpt-receiver tlsrpt-receiver 640\n", ContainerShell.run(c,
                    "stat -c '%U %G %a' /var/lib/tlsrpt-receiver/reports.db"));

            // Byte for byte: the report stored is the one tlsrpt-sender made.
            for (String f : ContainerShell.run(c, "cd /var/lib/tlsrpt-receiver && ls reports.db*")
                    .split("\\s+")) {
                c.copyFileFromContainer("/var/lib/tlsrpt-receiver/" + f, dir.resolve(f)
                        .toString());
            }
            try (ReceivedStore store = ReceivedStore.sqlite(dir.resolve("reports.db"))) {
                List<byte[]> raw = store.raw("Sender Org", sent.reportId());
                assertEquals(1, raw.size());
                try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(
                        raw.get(0)))) {
                    assertArrayEquals(sent.json(), in.readAllBytes());
                }
                assertEquals(Map.of("duplicate", 1L, "rejected", 1L, "stored", 2L),
                        store.counters());
            }
        }
    }
}
