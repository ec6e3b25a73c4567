package org.tlspolicy.tlsrpt.deliver;

import org.tlspolicy.tlsrpt.report.TlsReport;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

/**
 * A report as mail (RFC 8460 §5.3): {@code multipart/report; report-type="tlsrpt"} with a
 * human-readable text part and the gzip-compressed report as {@code application/tlsrpt+gzip},
 * headers {@code TLS-Report-Domain}, {@code TLS-Report-Submitter} and {@code TLS-Required: No}
 * (RFC 8689: a report about broken TLS must be able to travel without TLS), and the subject
 * RFC 8460 gives. Lines end in CRLF; everything is 7-bit.
 */
public final class ReportMail {

    private ReportMail() {
    }

    /** The message, ready for DKIM signing and submission. */
    /**
     * The report-id as RFC 8460 §5.3's subject shows it: an RFC 5322 msg-id ({@code
     * <left@right>}, dot-atom text on both sides, as its example {@code
     * <735ff.e317+bf22029@example.net>}), which report parsers match: the report-id without
     * the colons of its timestamp, at the submitter's domain.
     */
    static String subjectReportId(TlsReport report, TlsReport.Submitter submitter) {
        return report.reportId().replace(":", "") + "@" + submitter.domain();
    }

    public static byte[] build(TlsReport report, TlsReport.Submitter submitter, String from,
                               String to, Instant now) {
        String file = report.fileName(submitter);
        String boundary = "tlsrpt-" + report.reportId().hashCode() + "-" + now.getEpochSecond();
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.atOffset(ZoneOffset.UTC));
        StringBuilder m = new StringBuilder()
                .append("From: <").append(from).append(">\r\n")
                .append("To: <").append(to).append(">\r\n")
                // RFC 8460 §5.3: Report Domain, Submitter, Report-ID in the subject.
                .append("Subject: Report Domain: ").append(report.reportDomain())
                .append(" Submitter: ").append(submitter.domain())
                .append(" Report-ID: <").append(subjectReportId(report, submitter))
                .append(">\r\n")
                .append("Date: ").append(date).append("\r\n")
                .append("Message-ID: <").append(report.reportId()).append('.')
                .append(now.getEpochSecond()).append('@').append(submitter.domain())
                .append(">\r\n")
                .append("MIME-Version: 1.0\r\n")
                .append("TLS-Report-Domain: ").append(report.reportDomain()).append("\r\n")
                .append("TLS-Report-Submitter: ").append(submitter.domain()).append("\r\n")
                .append("TLS-Required: No\r\n")
                .append("Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n")
                .append("\tboundary=\"").append(boundary).append("\"\r\n")
                .append("\r\n")
                .append("This is a multipart message in MIME format.\r\n")
                .append("\r\n--").append(boundary).append("\r\n")
                .append("Content-Type: text/plain; charset=us-ascii\r\n")
                .append("Content-Transfer-Encoding: 7bit\r\n\r\n")
                .append("This is an aggregate TLS report (RFC 8460) from ")
                .append(submitter.domain()).append("\r\nfor ").append(report.reportDomain())
                .append(", ").append(report.day()).append(" (UTC).\r\n")
                .append("\r\n--").append(boundary).append("\r\n")
                .append("Content-Type: application/tlsrpt+gzip; name=\"").append(file)
                .append("\"\r\n")
                .append("Content-Disposition: attachment; filename=\"").append(file)
                .append("\"\r\n")
                .append("Content-Transfer-Encoding: base64\r\n\r\n")
                .append(Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(report.gzip()))
                .append("\r\n\r\n--").append(boundary).append("--\r\n");
        return m.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
