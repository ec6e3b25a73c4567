package org.tlspolicy.smtp;

import java.net.IDN;
import java.util.Locale;

/**
 * A mail domain that is a host name: what may follow the {@code @} of an address that report
 * mail goes to, or that a session is counted for (RFC 5321 §4.1.2 {@code Domain}, restricted to
 * host names: no address literals). Lowercase A-labels, no trailing dot, at least two labels,
 * letters-digits-hyphen labels of 1-63 characters (RFC 952, RFC 1123 §2.1), at most 253
 * characters (RFC 1035 §2.3.4), and a top-level label that is not all digits (RFC 3696 §2: that
 * would be an IPv4 address). An instance is always valid: the constructor refuses anything else.
 *
 * @param name the domain, normalised
 */
public record Domain(String name) {

    /** RFC 1035 §2.3.4: 255 octets on the wire, so 253 characters in text without the dot. */
    public static final int MAX_LENGTH = 253;

    /** RFC 1035 §2.3.4. */
    public static final int MAX_LABEL_LENGTH = 63;

    public Domain {
        String why = problem(name);
        if (why != null) {
            throw new IllegalArgumentException("not a host name: " + why);
        }
    }

    /**
     * The domain {@code text} names: lowercased, a trailing dot dropped, U-labels converted to
     * A-labels (IDNA, STD3 rules).
     *
     * @throws IllegalArgumentException naming why {@code text} is no host name
     */
    public static Domain parse(String text) {
        if (text.length() > 4 * MAX_LENGTH) {
            throw new IllegalArgumentException("not a host name: length");
        }
        String name = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
        if (!isAscii(name)) {
            try {
                name = IDN.toASCII(name, IDN.USE_STD3_ASCII_RULES);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a host name: " + e.getMessage());
            }
        }
        return new Domain(name.toLowerCase(Locale.ROOT));
    }

    /**
     * Why {@code name} (lowercase ASCII, no trailing dot) is not a host name of two or more
     * labels, or null when it is one. No exception and no allocation on success: the lookup
     * path calls this for every key.
     */
    public static String problem(String name) {
        if (name.isEmpty() || name.length() > MAX_LENGTH) {
            return "length";
        }
        int labels = 0;
        int labelStart = 0;
        boolean lastLabelNumeric = true;
        for (int i = 0; i <= name.length(); i++) {
            if (i < name.length() && name.charAt(i) != '.') {
                continue;
            }
            int length = i - labelStart;
            if (length == 0 || length > MAX_LABEL_LENGTH) {
                return "empty or over-long label";
            }
            lastLabelNumeric = true;
            for (int j = labelStart; j < i; j++) {
                char c = name.charAt(j);
                boolean digit = c >= '0' && c <= '9';
                if (!digit && !(c >= 'a' && c <= 'z') && c != '-') {
                    return "character '" + printable(c) + "'";
                }
                if (!digit) {
                    lastLabelNumeric = false;
                }
            }
            if (name.charAt(labelStart) == '-' || name.charAt(i - 1) == '-') {
                return "label starts or ends with '-'";
            }
            labels++;
            labelStart = i + 1;
        }
        if (lastLabelNumeric) {
            return NUMERIC_TOP_LABEL;
        }
        if (labels < 2) {
            return SINGLE_LABEL;
        }
        return null;
    }

    /** {@link #problem}'s word for an all-numeric top-level label: an IPv4 address. */
    public static final String NUMERIC_TOP_LABEL = "all-numeric top-level label";

    /** {@link #problem}'s word for a name of one label. */
    public static final String SINGLE_LABEL = "single label";

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static String printable(char c) {
        return c >= 0x21 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c);
    }

    @Override
    public String toString() {
        return name;
    }
}
