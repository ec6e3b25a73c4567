package org.tlspolicy.log;

/**
 * A value for a {@code key=value} log line, safe whatever it holds: as it is when it is one
 * word of printable ASCII, else in double quotes with {@code "} and {@code \} escaped and
 * control characters (CR and LF among them) as {@code \xHH}, so that text from outside (a DNS
 * record, a policy body, a log line) can neither end the line nor forge a field.
 */
public final class LogValue {

    private LogValue() {
    }

    /** {@code s} as a log value: bare, or quoted and escaped. */
    public static String of(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c == '"' || c == '\\' || c >= 0x7f) {
                return quoted(s);
            }
        }
        return s.isEmpty() ? "\"\"" : s;
    }

    /** {@code s} in double quotes, escaped, whatever it holds. */
    public static String quoted(String s) {
        return '"' + escaped(s) + '"';
    }

    /** {@code s} with {@code "} and {@code \} escaped and control characters as {@code \xHH}. */
    public static String escaped(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < ' ' || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * {@code s} for a line of text meant for people (a table, a report): control characters,
     * line separators and bidirectional overrides written as escapes (x and u with hex digits),
     * so that text from outside can neither break the line nor disguise itself; quotes kept.
     */
    public static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < ' ' || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
                    || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
