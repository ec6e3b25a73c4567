package org.tlspolicy.tlsrpt.received;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MIME walk over report mail as RFC 8460 §5.3 describes it and as reporters send it: the
 * report found in each shape, and mails with no report, too deep or too many parts, refused.
 */
class ReportMessageTest {

    static final byte[] REPORT = ReportJsonTest.report().getBytes(StandardCharsets.UTF_8);
    static final ReportJson JSON = new ReportJson(ReportLimits.DEFAULT);

    static String mail(String contentType, String disposition, String encoding, byte[] body) {
        String encoded = encoding.equals("base64")
                ? Base64.getMimeEncoder().encodeToString(body)
                : new String(body, StandardCharsets.UTF_8).replace("\n", "\r\n");
        return "From: reports@company-x.example\r\nTo: tlsrpt@company-y.example\r\n"
                + "Subject: Report Domain: company-y.example\r\n"
                + "TLS-Report-Domain: company-y.example\r\n"
                + "TLS-Report-Submitter: company-x.example\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b1\"\r\n"
                + "\r\n--b1\r\nContent-Type: text/plain\r\n\r\nThis is a report.\r\n--b1\r\n"
                + "Content-Type: " + contentType + "\r\n"
                + (disposition.isEmpty() ? "" : "Content-Disposition: " + disposition + "\r\n")
                + "Content-Transfer-Encoding: " + encoding + "\r\n\r\n" + encoded
                + "\r\n--b1--\r\n";
    }

    static ReportMessage read(String mail) throws ReportRejected {
        return ReportMessage.read(mail.getBytes(StandardCharsets.UTF_8), 1 << 20);
    }

    @Test
    void eachShapeReporterSendGivesTheReport() throws Exception {
        byte[] gz = ReportJsonTest.gzip(REPORT);
        String[][] shapes = {
            {"application/tlsrpt+gzip", "attachment; filename=\"r.json.gz\"", "base64", "gz"},
            {"application/tlsrpt+json", "attachment; filename=\"r.json\"", "7bit", "json"},
            {"application/gzip", "attachment; filename=\"r.gz\"", "base64", "gz"},
            {"application/octet-stream", "attachment; filename=\"google.com!x.json.gz\"",
                "base64", "gz"},
            {"application/octet-stream; name=\"report.json.gz\"", "", "base64", "gz"},
            // A report that is not gzipped, though its type says it is.
            {"application/tlsrpt+gzip", "attachment", "base64", "json"},
        };
        for (String[] s : shapes) {
            byte[] body = s[3].equals("gz") ? gz : REPORT;
            ReportMessage m = read(mail(s[0], s[1], s[2], body));
            if (s[2].equals("base64")) {
                assertArrayEquals(body, m.report(), String.join(" ", s));
            }
            assertEquals("company-y.example", m.domain());
            assertEquals("company-x.example", m.submitter());
            // As text the lines end in CRLF: the same report all the same.
            assertEquals(JSON.parse(REPORT), JSON.parse(m.report()), String.join(" ", s));
        }
    }

    @Test
    void aReportNestedInAForwardIsFound() throws Exception {
        String inner = mail("application/tlsrpt+gzip", "attachment", "base64",
                ReportJsonTest.gzip(REPORT));
        String outer = "From: a@b.example\r\nTo: c@d.example\r\nSubject: Fwd\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
                + "--o\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--o\r\n"
                + inner.substring(inner.indexOf("Content-Type: multipart/report"))
                .replaceFirst("\r\n\r\n", "\r\n\r\n") + "--o--\r\n";
        assertEquals(JSON.parse(REPORT), JSON.parse(read(outer).report()));
    }

    @Test
    void mailsWithoutAReportOrTooDeepOrTooLargeAreRefused() {
        String none = mail("text/html", "", "7bit", "<p>hi</p>".getBytes(StandardCharsets.UTF_8));
        assertTrue(assertThrows(ReportRejected.class, () -> read(none)).getMessage()
                .startsWith("no report part"));
        StringBuilder deep = new StringBuilder("From: a@b.example\r\nMIME-Version: 1.0\r\n");
        for (int i = 0; i < 10; i++) {
            deep.append("Content-Type: multipart/mixed; boundary=\"d").append(i)
                    .append("\"\r\n\r\n--d").append(i).append("\r\n");
        }
        deep.append("Content-Type: application/tlsrpt+json\r\n\r\n{}\r\n");
        assertTrue(assertThrows(ReportRejected.class, () -> read(deep.toString()))
                .getMessage().contains("nested deeper"));
        StringBuilder many = new StringBuilder("From: a@b.example\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n");
        for (int i = 0; i < 100; i++) {
            many.append("--m\r\nContent-Type: text/plain\r\n\r\npart ").append(i).append("\r\n");
        }
        many.append("--m--\r\n");
        assertTrue(assertThrows(ReportRejected.class, () -> read(many.toString()))
                .getMessage().contains("more than 64 MIME parts"));
        String big = mail("application/tlsrpt+gzip", "", "base64", new byte[2 << 20]);
        assertTrue(assertThrows(ReportRejected.class, () -> read(big)).getMessage()
                .contains("report part over"));
    }
}
