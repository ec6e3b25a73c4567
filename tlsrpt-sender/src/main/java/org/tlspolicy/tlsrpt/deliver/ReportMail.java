package org.tlspolicy.tlsrpt.deliver;

import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import org.tlspolicy.smtp.Domain;
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.tlsrpt.report.TlsReport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Date;
import java.util.Properties;

/**
 * A report as mail (RFC 8460 §5.3): {@code multipart/report; report-type="tlsrpt"} with a
 * human-readable text part and the gzip-compressed report as {@code application/tlsrpt+gzip},
 * headers {@code TLS-Report-Domain}, {@code TLS-Report-Submitter} and {@code TLS-Required: No}
 * (RFC 8689: a report about broken TLS must be able to travel without TLS), and the subject
 * RFC 8460 gives. Made with Jakarta Mail, which encodes and folds what goes into headers; what
 * it is given is typed already ({@link Mailbox}, {@link Domain}), so that no text from outside
 * reaches a header unchecked. Lines end in CRLF; everything is 7-bit.
 */
public final class ReportMail {

    /** No mail.* properties: the session only formats, it never connects. */
    private static final Session SESSION = Session.getInstance(new Properties());

    private ReportMail() {
    }

    /**
     * The report-id as RFC 8460 §5.3's subject shows it: an RFC 5322 msg-id ({@code
     * <left@right>}, dot-atom text on both sides, as its example {@code
     * <735ff.e317+bf22029@example.net>}), which report parsers match: the report-id without
     * the colons of its timestamp, at the submitter's domain.
     */
    static String subjectReportId(TlsReport report, TlsReport.Submitter submitter) {
        return report.reportId().replace(":", "") + "@" + submitter.domain();
    }

    /** {@code multipart/report; report-type="tlsrpt"} (RFC 6522 §3, RFC 8460 §5.3). */
    private static final class ReportMultipart extends MimeMultipart {
        ReportMultipart() throws MessagingException {
            super("report");
            ContentType type = new ContentType(contentType);
            type.setParameter("report-type", "tlsrpt");
            contentType = type.toString();
        }
    }

    /** A message whose Message-ID is ours, not one Jakarta Mail makes from the host's name. */
    private static final class ReportMessage extends MimeMessage {
        private final String messageId;

        ReportMessage(String messageId) {
            super(SESSION);
            this.messageId = messageId;
        }

        @Override
        protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", messageId);
        }
    }

    /** The message, ready for DKIM signing and submission. */
    public static byte[] build(TlsReport report, TlsReport.Submitter submitter, Mailbox from,
                               Mailbox to, Instant now) {
        // Typed here too: the report domain comes from the store, the submitter from options.
        Domain reportDomain = Domain.parse(report.reportDomain());
        Domain submitterDomain = Domain.parse(submitter.domain());
        String file = report.fileName(submitter);
        try {
            MimeMessage m = new ReportMessage("<" + report.reportId().replace(":", "") + "."
                    + now.getEpochSecond() + "@" + submitterDomain + ">");
            m.setFrom(new InternetAddress(from.toString(), true));
            m.setRecipient(MimeMessage.RecipientType.TO, new InternetAddress(to.toString(), true));
            // RFC 8460 §5.3: Report Domain, Submitter, Report-ID in the subject.
            m.setSubject("Report Domain: " + reportDomain + " Submitter: " + submitterDomain
                    + " Report-ID: <" + subjectReportId(report, submitter) + ">", "us-ascii");
            m.setSentDate(Date.from(now));
            m.setHeader("TLS-Report-Domain", reportDomain.name());
            m.setHeader("TLS-Report-Submitter", submitterDomain.name());
            m.setHeader("TLS-Required", "No");

            MimeBodyPart text = new MimeBodyPart();
            text.setText("This is an aggregate TLS report (RFC 8460) from " + submitterDomain
                    + "\r\nfor " + reportDomain + ", " + report.day() + " (UTC).\r\n",
                    "us-ascii");
            text.setHeader("Content-Transfer-Encoding", "7bit");
            MimeBodyPart json = new MimeBodyPart();
            json.setDataHandler(new DataHandler(new ByteArrayDataSource(report.gzip(),
                    "application/tlsrpt+gzip")));
            json.setFileName(file);
            json.setDisposition(Part.ATTACHMENT);
            json.setHeader("Content-Transfer-Encoding", "base64");
            MimeMultipart parts = new ReportMultipart();
            parts.setPreamble("This is a multipart message in MIME format.");
            parts.addBodyPart(text);
            parts.addBodyPart(json);
            m.setContent(parts);
            m.saveChanges();
            ByteArrayOutputStream out = new ByteArrayOutputStream(report.gzip().length * 2);
            m.writeTo(out);
            return out.toByteArray();
        } catch (MessagingException e) {
            throw new IllegalStateException("report mail: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
