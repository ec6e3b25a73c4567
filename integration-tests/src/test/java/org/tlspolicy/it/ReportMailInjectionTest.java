package org.tlspolicy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 34, finding 1, against a real Postfix 3.7 as the relay's own MTA (smtpd on
 * 127.0.5.1:25, every message accepted and discarded): a domain whose TLSRPT record carries
 * SMTP commands in a percent-encoded {@code mailto:} (CR LF, DATA, a forged message, MAIL and
 * RCPT to third parties) makes tlsrpt-sender's {@code send} log one refusal naming the domain,
 * and Postfix gets nothing for it; a clean record on the same run gets its report. Before the
 * fix, Postfix queued three messages from the one report: to the victim with the attacker's
 * headers and body, between two attacker addresses, and the report.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ReportMailInjectionTest {

    static final String HOSTILE = "mailto:victim@victim.test%3E%0D%0ADATA%0D%0AFrom:"
            + "%20boss@victim.test%0D%0ASubject:%20urgent%0D%0A%0D%0Apay%20now%0D%0A.%0D%0AMAIL"
            + "%09FROM:%3Cx@attacker.test%3E%0D%0ARCPT%20TO:%3Cy@attacker.test%3E";

    @TempDir
    Path dir;

    @Test
    void aHostileRuaGivesNoMailButALogLineAndACleanOneGetsItsReport() throws Exception {
        LocalDate yesterday = LocalDate.now(ZoneOffset.UTC).minusDays(1);
        Path db = dir.resolve("tlsrpt.db");
        try (SessionStore store = SessionStore.open(db)) {
            List<SessionCount> counts = new ArrayList<>();
            for (String d : List.of("evil.test", "clean.test")) {
                counts.add(new SessionCount(yesterday, new AppliedPolicy(PolicyType.NO_POLICY_FOUND,
                        d, List.of(), List.of()), new SessionResult.Success(), "", "", 5));
            }
            store.add(counts, "test", "seeded");
        }
        Map<String, String> files = new LinkedHashMap<>();
        files.put("main.cf", """
                compatibility_level = 3.6
                myhostname = relay.test
                mydestination =
                alias_maps =
                inet_protocols = ipv4
                mynetworks = 127.0.0.0/8
                smtpd_relay_restrictions = permit_mynetworks, reject
                # Every message is accepted and discarded: the test reads what was queued.
                relay_domains = static:all
                relay_transport = discard
                default_transport = discard
                maillog_file = /var/log/postfix/mail.log
                """);
        files.put("setup.sh", "postconf -MX smtp/inet\n"
                + "postconf -M '127.0.5.1:smtp/inet=127.0.5.1:smtp inet n - n - - smtpd'\n");
        try (KnotServer knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                Map.of("test.", """
                        $ORIGIN test.
                        $TTL 60
                        @ SOA ns.test. hostmaster.test. 1 3600 900 604800 60
                        @ NS ns.test.
                        ns A 127.0.0.1
                        _smtp._tls.evil TXT "v=TLSRPTv1; rua=%s"
                        _smtp._tls.clean TXT "v=TLSRPTv1; rua=mailto:tlsrpt@clean.test"
                        """.formatted(HOSTILE)));
             PostfixContainer mta = PostfixContainer.start(PostfixRelease.DEBIAN_12,
                     dir.resolve("mta"), files)) {
            PostfixLog log = mta.log();
            int mark = log.mark();
            DaemonProcess.Result send = DaemonProcess.runJar(
                    MailDeliveryScenarios.tlsrptSenderJar(), List.of("--store", db.toString(),
                            "send", "--organization", "Relay Org", "--contact",
                            "mailto:postmaster@relay.test", "--submitter", "relay.test",
                            "--from", "tlsrpt-noreply@relay.test", "--smtp", "127.0.5.1:25",
                            "--dns", "127.0.0.1:" + knot.address().getPort()));
            assertEquals(0, send.exitCode(), send.toString());
            List<String> refusals = send.out().lines().filter(l -> l.contains("rua day="
                    + yesterday + " domain=evil.test refused=")).toList();
            assertEquals(1, refusals.size(), send.out());
            assertTrue(refusals.get(0).contains("reason=\"not a mailbox"), refusals.get(0));
            assertTrue(refusals.get(0).endsWith("\""), "one line, CR LF escaped: "
                    + refusals.get(0));
            PostfixLog.Delivery clean = log.awaitDelivery("tlsrpt@clean.test", mark, 60);
            assertTrue(clean.sent(), clean.line());
            Thread.sleep(2000); // anything else queued would be delivered by now
            List<String> lines = log.linesSince(mark);
            assertEquals(1, lines.stream().filter(l -> l.contains("postfix/qmgr")
                    && l.contains(": from=<")).count(), "one message queued:\n"
                    + String.join("\n", lines));
            assertTrue(lines.stream().noneMatch(l -> l.contains("victim")
                    || l.contains("attacker")), String.join("\n", lines));
        }
    }
}
