package org.tlspolicy.tlsrpt.receiver;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.dkim.DkimVerifier;
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.tlsrpt.deliver.DkimSigner;
import org.tlspolicy.tlsrpt.deliver.ReportMail;
import org.tlspolicy.tlsrpt.received.ReportLimits;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Report mails made by tlsrpt-sender itself (its TlsReport, its ReportMail, its DkimSigner)
 * taken in by {@link Ingest} into a real SQLite store: the DKIM signature verifies, the stored
 * report is byte for byte the one sent, the summary's figures are the report's; a second copy
 * is a duplicate; a broken one goes to the quarantine whole, with its reason, and nothing of it
 * is stored.
 */
class IngestTest {

    static final LocalDate DAY = LocalDate.parse("2026-11-22");
    static final TlsReport.Submitter SUBMITTER = new TlsReport.Submitter("Sender Org",
            "mailto:postmaster@sender.test", "sender.test", "192.0.2.25");

    @TempDir
    Path dir;

    ReceivedStore store;
    Quarantine quarantine;
    KeyPair key;

    @BeforeEach
    void open() throws Exception {
        store = ReceivedStore.sqlite(dir.resolve("reports.db"));
        quarantine = new Quarantine(dir.resolve("quarantine"));
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        key = g.generateKeyPair();
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    Ingest ingest() {
        String record = "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(
                key.getPublic().getEncoded());
        DkimVerifier dkim = new DkimVerifier((selector, domain) -> selector.equals("sel")
                && domain.equals("sender.test") ? Optional.of(record) : Optional.empty());
        return new Ingest(store, ReportLimits.DEFAULT, dkim, quarantine,
                () -> Instant.parse("2026-11-23T06:00:00Z"));
    }

    static TlsReport report(String domain) {
        AppliedPolicy p = new AppliedPolicy(PolicyType.STS, domain, List.of("version: STSv1",
                "mode: testing", "mx: mx." + domain, "max_age: 86400"), List.of("mx." + domain));
        return TlsReport.build(SUBMITTER, domain, DAY, List.of(
                new SessionCount(DAY, p, new SessionResult.Success(), "", "", 1200),
                new SessionCount(DAY, p, new SessionResult.Failure(ResultType.CERTIFICATE_EXPIRED,
                        "certificate has expired"), "mx." + domain, "192.0.2.1", 7),
                new SessionCount(DAY, domain, AppliedPolicy.none("other." + domain),
                        new SessionResult.Success(), "", "", "", "", 5)));
    }

    byte[] mail(TlsReport r, boolean signed) throws Exception {
        byte[] m = ReportMail.build(r, SUBMITTER, Mailbox.parse("tlsrpt@sender.test"),
                Mailbox.parse("tlsrpt@" + r.reportDomain()), Instant.parse("2026-11-23T05:00:00Z"));
        return signed ? new DkimSigner("sender.test", "sel", key.getPrivate()).sign(m,
                Instant.parse("2026-11-23T05:00:00Z")) : m;
    }

    @Test
    void aSignedReportFromTlsrptSenderRoundTripsExactly() throws Exception {
        TlsReport sent = report("example.test");
        Ingest.Outcome o = ingest().mail(mail(sent, true));
        store.commit();
        assertEquals(new Ingest.Outcome.Stored(sent.reportId(), "Sender Org"), o);
        List<byte[]> raw = store.raw("Sender Org", sent.reportId());
        assertEquals(1, raw.size());
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(raw.get(0)))) {
            assertArrayEquals(sent.json(), in.readAllBytes());
        }
        List<ReceivedSummary.Domain> s = ReceivedSummary.of(store.connection(), DAY,
                Optional.empty());
        assertEquals(List.of("example.test", "other.example.test"), s.stream()
                .map(ReceivedSummary.Domain::domain).toList());
        ReceivedSummary.Domain d = s.get(0);
        assertEquals(new ReceivedSummary.Counts(1200, 7), d.total());
        assertEquals(1, d.reports());
        assertEquals(1, d.authenticated());
        assertEquals(java.util.Map.of("certificate-expired", 7L), d.failuresByResult());
        assertEquals(List.of(java.util.Map.entry("mx.example.test", 7L)), d.topReceivingMx());
        try (var q = store.connection().createStatement(); var r = q.executeQuery(
                "SELECT dkim_result, dkim_domain FROM received_report")) {
            assertTrue(r.next());
            assertEquals("pass", r.getString(1));
            assertEquals("sender.test", r.getString(2));
        }
        store.commit();
    }

    @Test
    void theSameReportTwiceIsOneReportAndAnUnsignedOneIsSaidToBe() throws Exception {
        TlsReport sent = report("example.test");
        Ingest ingest = ingest();
        assertInstanceOf(Ingest.Outcome.Stored.class, ingest.mail(mail(sent, false)));
        // The same report again, by mail (signed this time) and by HTTPS.
        assertInstanceOf(Ingest.Outcome.Duplicate.class, ingest.mail(mail(sent, true)));
        assertInstanceOf(Ingest.Outcome.Duplicate.class, ingest.https(sent.gzip()));
        store.commit();
        ReceivedSummary.Domain d = ReceivedSummary.of(store.connection(), DAY,
                Optional.of("example.test")).get(0);
        assertEquals(1, d.reports());
        assertEquals(0, d.authenticated());
        assertEquals(new ReceivedSummary.Counts(1200, 7), d.total());
        assertEquals(java.util.Map.of("duplicate", 2L, "stored", 1L), store.counters());
    }

    @Test
    void aTamperedSignatureFails() throws Exception {
        byte[] m = mail(report("example.test"), true);
        String text = new String(m, StandardCharsets.ISO_8859_1).replace("Sender Org",
                "Sender Org!");
        // The body is base64: change a header instead, one that is signed.
        text = text.replace("Subject: Report Domain", "Subject: report Domain");
        ingest().mail(text.getBytes(StandardCharsets.ISO_8859_1));
        store.commit();
        try (var q = store.connection().createStatement(); var r = q.executeQuery(
                "SELECT dkim_result FROM received_report")) {
            assertTrue(r.next());
            assertEquals("fail", r.getString(1));
        }
        store.commit();
    }

    /** A signature's d= and s= name the key's DNS record: not domain names, no query. */
    @Test
    void aSignatureNamingNoDomainAsksTheDnsNothing() throws Exception {
        String text = new String(mail(report("example.test"), true),
                StandardCharsets.ISO_8859_1).replace("s=sel;", "s=sel\\046x;");
        assertTrue(text.contains("s=sel\\046x;"), "the test's signature has s=sel;");
        List<String> asked = new java.util.ArrayList<>();
        DkimVerifier.Result r = new DkimVerifier((selector, domain) -> {
            asked.add(selector + "/" + domain);
            return Optional.empty();
        }).verify(text.getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(List.of(), asked);
        assertEquals("fail", r.word());
    }

    @Test
    void aBrokenReportIsQuarantinedWholeAndNothingIsStored() throws Exception {
        byte[] m = ("From: a@b.test\r\nTo: tlsrpt@example.test\r\nSubject: x\r\n"
                + "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"q\"\r\n\r\n"
                + "--q\r\nContent-Type: text/plain\r\n\r\nno report here\r\n--q--\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        Ingest.Outcome o = ingest().mail(m);
        store.commit();
        Ingest.Outcome.Rejected r = assertInstanceOf(Ingest.Outcome.Rejected.class, o);
        assertTrue(r.reason().startsWith("no report part"), r.reason());
        assertArrayEquals(m, Files.readAllBytes(r.quarantined()));
        String name = r.quarantined().getFileName().toString();
        assertTrue(Files.readString(r.quarantined().resolveSibling(name.replace(".eml",
                ".reason"))).startsWith("no report part"));
        assertEquals(List.of(), ReceivedSummary.of(store.connection(), DAY.minusDays(3650),
                Optional.empty()));
        assertEquals(java.util.Map.of("rejected", 1L), store.counters());
    }

    @Test
    void aMailOverTheBoundIsRefusedUnread() throws Exception {
        byte[] big = new byte[Ingest.MAX_MAIL + 1];
        Ingest.Outcome.Rejected r = assertInstanceOf(Ingest.Outcome.Rejected.class,
                ingest().mail(big));
        assertTrue(r.reason().contains("is over"));
    }
}
