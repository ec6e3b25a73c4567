package org.tlspolicy.tlsrpt.receiver;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.dkim.DkimVerifier;
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.tlsrpt.deliver.ReportMail;
import org.tlspolicy.tlsrpt.received.ReportLimits;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Maildir as Postfix's local(8) or Dovecot writes it: every mail taken once, marked Seen once
 * committed; a pass that stopped between the commit and the marking (the process killed)
 * takes the same mails again as duplicates, so nothing is counted twice.
 */
class MaildirTest {

    @TempDir
    Path dir;

    static byte[] mail(String domain) {
        TlsReport r = IngestTest.report(domain);
        return ReportMail.build(r, IngestTest.SUBMITTER, Mailbox.parse("tlsrpt@sender.test"),
                Mailbox.parse("tlsrpt@" + domain), Instant.parse("2026-11-23T05:00:00Z"));
    }

    static void deliver(Path maildir, String name, byte[] mail) throws Exception {
        Files.createDirectories(maildir.resolve("tmp"));
        Files.createDirectories(maildir.resolve("new"));
        Files.createDirectories(maildir.resolve("cur"));
        Path tmp = Files.write(maildir.resolve("tmp").resolve(name), mail);
        Files.move(tmp, maildir.resolve("new").resolve(name));
    }

    @Test
    void everyMailIsTakenOnceAndMarkedSeen() throws Exception {
        Path maildir = dir.resolve("Maildir");
        for (int i = 0; i < 12; i++) {
            deliver(maildir, "1700000000." + i + ".host", mail("d" + i + ".example.test"));
        }
        deliver(maildir, "1700000000.99.host", "Subject: not a report\r\n\r\nhello\r\n"
                .getBytes());
        // One already read by a mail client (flag S in cur/): not taken.
        Files.write(maildir.resolve("cur").resolve("1600000000.1.host:2,S"),
                mail("seen.example.test"));
        try (ReceivedStore store = ReceivedStore.sqlite(dir.resolve("r.db"))) {
            Ingest ingest = new Ingest(store, ReportLimits.DEFAULT,
                    new DkimVerifier((s, d) -> Optional.empty()),
                    new Quarantine(dir.resolve("q")), Instant::now);
            Maildir m = new Maildir(maildir);
            assertEquals(new Maildir.Tally(12, 0, 1), m.takeAll(ingest, store));
            assertEquals(new Maildir.Tally(0, 0, 0), m.takeAll(ingest, store));
            try (Stream<Path> cur = Files.list(maildir.resolve("cur"))) {
                assertEquals(14, cur.filter(p -> p.toString().endsWith(":2,S")).count());
            }
            try (Stream<Path> fresh = Files.list(maildir.resolve("new"))) {
                assertEquals(0, fresh.count());
            }
            assertEquals(12, ReceivedSummary.of(store.connection(), IngestTest.DAY,
                    Optional.empty()).stream().filter(d -> !d.domain().startsWith("other."))
                    .count());
        }
    }

    @Test
    void killedAfterTheCommitAndBeforeTheMarksTheMailsComeBackAsDuplicates()
            throws Exception {
        Path maildir = dir.resolve("Maildir");
        List<String> names = List.of("1.a.host", "2.b.host", "3.c.host");
        for (String n : names) {
            deliver(maildir, n, mail(n.charAt(2) + ".example.test"));
        }
        try (ReceivedStore store = ReceivedStore.sqlite(dir.resolve("r.db"))) {
            Ingest ingest = new Ingest(store, ReportLimits.DEFAULT,
                    new DkimVerifier((s, d) -> Optional.empty()),
                    new Quarantine(dir.resolve("q")), Instant::now);
            assertEquals(new Maildir.Tally(3, 0, 0), new Maildir(maildir).takeAll(ingest,
                    store));
            // Undo the marks, as if the process had died right after the commit.
            try (Stream<Path> cur = Files.list(maildir.resolve("cur"))) {
                for (Path p : cur.toList()) {
                    Files.move(p, maildir.resolve("new").resolve(p.getFileName().toString()
                            .replace(":2,S", "")));
                }
            }
            assertEquals(new Maildir.Tally(0, 3, 0), new Maildir(maildir).takeAll(ingest,
                    store));
            ReceivedSummary.Domain a = ReceivedSummary.of(store.connection(), IngestTest.DAY,
                    Optional.of("a.example.test")).get(0);
            assertEquals(1, a.reports());
            assertEquals(1200, a.total().successful());
        }
    }
}
