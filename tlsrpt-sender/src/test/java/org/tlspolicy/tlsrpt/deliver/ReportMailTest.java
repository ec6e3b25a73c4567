package org.tlspolicy.tlsrpt.deliver;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.store.SessionCount;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Report mail checked by independent implementations, Debian's own: Python's email package
 * parses the MIME structure and the attachment, and python3-dkim (dkimpy) verifies the DKIM
 * signature, RSA-SHA256 and Ed25519-SHA256, against the public key as its DNS TXT record.
 */
class ReportMailTest {

    private static final TlsReport.Submitter SUBMITTER = new TlsReport.Submitter("Sender Org",
            "mailto:postmaster@sender.test", "sender.test", "192.0.2.25");

    @TempDir
    Path dir;

    private static final String VERIFY = """
            import sys, email, email.policy, gzip, json, dkim
            msg = open(sys.argv[1], 'rb').read()
            record = sys.argv[2].encode()
            def dnsfunc(name, timeout=5):
                n = name.decode() if isinstance(name, bytes) else name
                return record if n.rstrip('.') == 'sel._domainkey.sender.test' else None
            print('dkim', dkim.verify(msg, dnsfunc=dnsfunc))
            m = email.message_from_bytes(msg, policy=email.policy.default)
            print('type', m.get_content_type(), m.get_param('report-type'))
            print('subject', m['Subject'])
            for h in ('TLS-Report-Domain', 'TLS-Report-Submitter', 'TLS-Required'):
                print(h, m[h])
            parts = list(m.iter_parts())
            print('parts', ' '.join(p.get_content_type() for p in parts))
            print('filename', parts[1].get_filename())
            report = json.loads(gzip.decompress(parts[1].get_content()))
            print('report-id', report['report-id'])
            print('failures', report['policies'][0]['summary']['total-failure-session-count'])
            """;

    private static TlsReport report() {
        LocalDate day = LocalDate.parse("2026-11-22");
        AppliedPolicy p = new AppliedPolicy(org.tlspolicy.tlsrpt.report.PolicyType.STS,
                "example.com", List.of("version: STSv1", "mode: enforce", "mx: mx.example.com",
                "max_age: 86400"), List.of("mx.example.com"));
        return TlsReport.build(SUBMITTER, "example.com", day, List.of(
                new SessionCount(day, p, new SessionResult.Success(), "", "", 100),
                new SessionCount(day, p, new SessionResult.Failure(
                        ResultType.CERTIFICATE_EXPIRED, "certificate has expired"),
                        "mx.example.com", "192.0.2.1", 3)));
    }

    private List<String> verify(byte[] message, String txt) throws Exception {
        Path file = Files.write(dir.resolve("message.eml"), message);
        Path script = Files.writeString(dir.resolve("verify.py"), VERIFY);
        // Debian's python3 (with python3-dkim), not whatever python3 is first on PATH.
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), file.toString(),
                txt).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return new ArrayList<>(Arrays.asList(out.split("\n")));
    }

    private static String txt(PublicKey key, String k) {
        byte[] der = key.getEncoded();
        // Ed25519: the raw 32-byte key (RFC 8463 §4), the end of its SubjectPublicKeyInfo.
        byte[] p = k.equals("ed25519") ? Arrays.copyOfRange(der, der.length - 32, der.length)
                : der;
        return "v=DKIM1; k=" + k + "; p=" + Base64.getEncoder().encodeToString(p);
    }

    private void checkSigned(KeyPair keys, String k) throws Exception {
        TlsReport r = report();
        Instant now = Instant.parse("2026-11-23T01:00:00Z");
        byte[] mail = ReportMail.build(r, SUBMITTER, Mailbox.parse("tlsrpt-noreply@sender.test"),
                Mailbox.parse("tlsrpt@example.com"), now);
        byte[] signed = new DkimSigner("sender.test", "sel", keys.getPrivate()).sign(mail, now);
        List<String> out = verify(signed, txt(keys.getPublic(), k));
        assertEquals(List.of(
                "dkim True",
                "type multipart/report tlsrpt",
                "subject Report Domain: example.com Submitter: sender.test Report-ID: <"
                        + ReportMail.subjectReportId(r, SUBMITTER) + ">",
                "TLS-Report-Domain example.com",
                "TLS-Report-Submitter sender.test",
                "TLS-Required No",
                "parts text/plain application/tlsrpt+gzip",
                "filename " + r.fileName(SUBMITTER),
                "report-id " + r.reportId(),
                "failures 3"), out.subList(0, 10));
        // RFC 5322 §3.6.4 msg-id: dot-atom-text "@" dot-atom-text, as RFC 8460 §5.3 shows it.
        assertTrue(ReportMail.subjectReportId(r, SUBMITTER).matches(
                "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                        + "@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*"), ReportMail.subjectReportId(r,
                SUBMITTER));
        // A changed byte in the report breaks the signature.
        byte[] tampered = signed.clone();
        String s = new String(tampered, StandardCharsets.US_ASCII);
        int at = s.indexOf("aggregate TLS report");
        tampered[at] = 'A';
        assertEquals("dkim False", verify(tampered, txt(keys.getPublic(), k)).get(0));
    }

    @Test
    void rsaSignedReportMailParsesAndVerifies() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        checkSigned(g.generateKeyPair(), "rsa");
    }

    @Test
    void ed25519SignedReportMailParsesAndVerifies() throws Exception {
        checkSigned(KeyPairGenerator.getInstance("Ed25519").generateKeyPair(), "ed25519");
    }

    @Test
    void keysAreReadFromPem() throws Exception {
        KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        Path pem = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(
                rsa.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        assertEquals(rsa.getPrivate(), DkimSigner.readKey(pem));
    }
}
