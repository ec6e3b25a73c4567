package org.tlspolicy.dkim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * DKIM's view of a message (RFC 6376 §3.4): its header fields as written, and the "simple" and
 * "relaxed" canonicalizations of header fields and body, which the signer (report mail) and
 * the verifier (reports received) must compute alike. Text is ISO-8859-1 (bytes as chars).
 */
public final class DkimCanonical {

    private DkimCanonical() {
    }

    /** One header field as written: its name, and its value with folding kept. */
    public record Field(String name, String value) {
    }

    /** The header block and the body of {@code message} (CRLF lines), split at the blank line. */
    public record Parts(List<Field> header, String body) {
    }

    /**
     * Splits {@code message}; a message without a blank line is all header. Lines ending in a
     * bare LF are taken as CRLF lines (as a file on a Unix system has them).
     */
    public static Parts split(String message) {
        String m = message.indexOf("\r\n") < 0 ? message.replace("\n", "\r\n") : message;
        int at = m.startsWith("\r\n") ? 0 : m.indexOf("\r\n\r\n");
        String head = at < 0 ? m : m.substring(0, at + (at == 0 ? 0 : 2));
        String body = at < 0 ? "" : m.substring(at + (at == 0 ? 2 : 4));
        return new Parts(fields(head), body);
    }

    /** Header fields as (name, raw value with folding) pairs, in order. */
    public static List<Field> fields(String block) {
        List<Field> out = new ArrayList<>();
        String name = null;
        StringBuilder value = null;
        for (String line : block.split("\r\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && value != null) {
                value.append("\r\n").append(line);
                continue;
            }
            if (name != null) {
                out.add(new Field(name, value.toString()));
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                name = null; // not a header field: nothing DKIM could have signed
                value = null;
                continue;
            }
            name = line.substring(0, colon);
            value = new StringBuilder(line.substring(colon + 1));
        }
        if (name != null) {
            out.add(new Field(name, value.toString()));
        }
        return out;
    }

    /** RFC 6376 §3.4.2: "relaxed" header canonicalization, without the line's CRLF. */
    public static String relaxedHeader(String name, String value) {
        String v = collapsed(value.replace("\r\n", ""), true);
        return name.strip().toLowerCase(Locale.ROOT) + ":" + v;
    }

    /**
     * {@code s} with each run of spaces and tabs (WSP) made one space, and none at its end; with
     * {@code strip}, none at its start either (RFC 6376 §3.4.2 and §3.4.4). A loop, not a
     * regular expression: it runs on every line of every mail verified (a regex replacement per
     * line was most of the receiver's ingest time: bench ReceiverBenchmark).
     */
    static String collapsed(String s, boolean strip) {
        StringBuilder b = new StringBuilder(s.length());
        boolean space = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t') {
                space = true;
            } else {
                if (space && !(strip && b.length() == 0)) {
                    b.append(' ');
                }
                space = false;
                b.append(c);
            }
        }
        return b.toString();
    }

    /** RFC 6376 §3.4.1: "simple" header canonicalization, without the line's CRLF. */
    public static String simpleHeader(String name, String value) {
        return name + ":" + value;
    }

    /** RFC 6376 §3.4.4: "relaxed" body canonicalization. */
    public static String relaxedBody(String body) {
        String[] lines = body.split("\r\n", -1);
        StringBuilder b = new StringBuilder(body.length());
        int last = lines.length - 1;
        while (last >= 0 && isBlank(lines[last])) {
            last--;
        }
        for (int i = 0; i <= last; i++) {
            b.append(collapsed(lines[i], false)).append("\r\n");
        }
        return b.toString();
    }

    /** RFC 6376 §3.4.3: "simple" body canonicalization. */
    public static String simpleBody(String body) {
        String b = body;
        while (b.endsWith("\r\n\r\n")) {
            b = b.substring(0, b.length() - 2);
        }
        if (b.isEmpty()) {
            return "\r\n";
        }
        return b.endsWith("\r\n") ? b : b + "\r\n";
    }

    private static boolean isBlank(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) != ' ' && line.charAt(i) != '\t') {
                return false;
            }
        }
        return true;
    }
}
