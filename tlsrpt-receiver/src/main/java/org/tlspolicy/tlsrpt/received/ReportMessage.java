package org.tlspolicy.tlsrpt.received;

import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeMessage;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Properties;

/**
 * The report in a report mail (RFC 8460 §5.3): a {@code multipart/report; report-type=tlsrpt}
 * whose report part is {@code application/tlsrpt+gzip} or {@code +json}, and the shapes seen in
 * the wild: the report as {@code application/gzip}, {@code application/octet-stream} or
 * {@code application/json}, known by its type or a {@code .json.gz}, {@code .gz} or {@code
 * .json} file name, nested in other multiparts, or the whole mail. The MIME structure is walked
 * with Jakarta Mail, bounded in depth and parts; the part's transfer encoding is undone, its
 * compression is not (that is {@link ReportJson}'s, with its own bound).
 *
 * @param report    the report part's bytes (gzip or JSON)
 * @param domain    the {@code TLS-Report-Domain} header, or ""
 * @param submitter the {@code TLS-Report-Submitter} header, or ""
 */
public record ReportMessage(byte[] report, String domain, String submitter) {

    /** Multipart nesting, at most. */
    static final int MAX_DEPTH = 5;

    /** Body parts looked at, at most. */
    static final int MAX_PARTS = 64;

    private static final Session SESSION = Session.getInstance(new Properties());

    /** The report in the mail {@code raw} (RFC 5322 bytes, CRLF or LF lines). */
    public static ReportMessage read(byte[] raw, int maxReport) throws ReportRejected {
        try {
            MimeMessage m = new MimeMessage(SESSION, new ByteArrayInputStream(raw));
            int[] seen = {0};
            byte[] report = find(m, 0, seen, maxReport);
            if (report == null) {
                throw new ReportRejected("no report part (application/tlsrpt+gzip, "
                        + "application/tlsrpt+json, or a .json.gz/.json attachment) in a "
                        + type(m));
            }
            return new ReportMessage(report, header(m, "TLS-Report-Domain"),
                    header(m, "TLS-Report-Submitter"));
        } catch (MessagingException | IOException e) {
            throw new ReportRejected("not a readable mail: " + e.getMessage());
        }
    }

    private static byte[] find(Part part, int depth, int[] seen, int maxReport)
            throws MessagingException, IOException, ReportRejected {
        if (++seen[0] > MAX_PARTS) {
            throw new ReportRejected("more than " + MAX_PARTS + " MIME parts");
        }
        if (part.isMimeType("multipart/*")) {
            if (depth >= MAX_DEPTH) {
                throw new ReportRejected("MIME parts nested deeper than " + MAX_DEPTH);
            }
            Object content = part.getContent();
            if (!(content instanceof Multipart mp)) {
                return null;
            }
            byte[] fallback = null;
            for (int i = 0; i < mp.getCount(); i++) {
                BodyPart b = mp.getBodyPart(i);
                if (isTlsrpt(b)) {
                    return bytes(b, maxReport);
                }
                byte[] found = find(b, depth + 1, seen, maxReport);
                if (found != null && fallback == null) {
                    fallback = found;
                }
            }
            return fallback;
        }
        return isTlsrpt(part) || looksLikeReport(part) ? bytes(part, maxReport) : null;
    }

    /** RFC 8460 §5.3's own types. */
    private static boolean isTlsrpt(Part p) throws MessagingException {
        return p.isMimeType("application/tlsrpt+gzip") || p.isMimeType("application/tlsrpt+json");
    }

    /** What reporters send besides: a gzip or JSON attachment, by type or by name. */
    private static boolean looksLikeReport(Part p) throws MessagingException {
        String name = fileName(p).toLowerCase(Locale.ROOT);
        boolean named = name.endsWith(".json.gz") || name.endsWith(".gz")
                || name.endsWith(".json");
        return p.isMimeType("application/gzip") || p.isMimeType("application/x-gzip")
                || p.isMimeType("application/json") || (named && (p.isMimeType(
                "application/octet-stream") || p.isMimeType("application/*")
                || p.isMimeType("text/plain")));
    }

    private static String fileName(Part p) {
        try {
            String n = p.getFileName();
            if (n != null) {
                return n;
            }
            String name = new ContentType(p.getContentType()).getParameter("name");
            return name == null ? "" : name;
        } catch (MessagingException | RuntimeException e) {
            return "";
        }
    }

    private static byte[] bytes(Part p, int max) throws MessagingException, IOException,
            ReportRejected {
        try (InputStream in = p.getInputStream()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                throw new ReportRejected("report part over " + max + " bytes");
            }
            return b;
        }
    }

    private static String header(MimeMessage m, String name) throws MessagingException {
        String v = m.getHeader(name, null);
        return v == null ? "" : v.strip();
    }

    private static String type(MimeMessage m) {
        try {
            return new ContentType(m.getContentType()).getBaseType();
        } catch (MessagingException | RuntimeException e) {
            return "mail";
        }
    }
}
