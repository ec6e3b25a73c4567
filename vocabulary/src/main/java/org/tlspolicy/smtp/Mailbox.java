package org.tlspolicy.smtp;

/**
 * An address report mail may be sent to or from: an RFC 5321 §4.1.2 {@code Mailbox} whose
 * domain is a host name ({@link Domain}; address literals are refused). Text from outside (a
 * {@code mailto:} rua, a command-line option) becomes a Mailbox at the edge, so that nothing
 * further in can put a CR, LF or angle bracket into an SMTP command or a header.
 *
 * <p>Stricter than the RFC in one point: {@code <} and {@code >} are refused inside a quoted
 * local part too, where RFC 5321 allows them. No real mailbox needs them, and every SMTP
 * command and header the address goes into is then delimited unambiguously.
 *
 * @param localPart a {@code Dot-string} or a {@code Quoted-string} (with its quotes), at most
 *                  64 octets (RFC 5321 §4.5.3.1.1)
 * @param domain    the domain
 */
public record Mailbox(String localPart, Domain domain) {

    /** RFC 5321 §4.5.3.1.1. */
    public static final int MAX_LOCAL_PART = 64;

    public Mailbox {
        String why = localPartProblem(localPart);
        if (why != null) {
            throw new IllegalArgumentException("not a mailbox: local part: " + why);
        }
        if (domain == null) {
            throw new IllegalArgumentException("not a mailbox: no domain");
        }
    }

    /**
     * The mailbox {@code text} ({@code local@domain}) names.
     *
     * @throws IllegalArgumentException naming why it is none
     */
    public static Mailbox parse(String text) {
        int at = text.lastIndexOf('@');
        if (at <= 0 || at == text.length() - 1) {
            throw new IllegalArgumentException("not a mailbox: no local@domain");
        }
        String domain = text.substring(at + 1);
        if (domain.startsWith("[")) {
            throw new IllegalArgumentException("not a mailbox: address literal domain");
        }
        Domain d;
        try {
            d = Domain.parse(domain);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a mailbox: domain " + e.getMessage());
        }
        return new Mailbox(text.substring(0, at), d);
    }

    /** Why {@code s} is not an acceptable {@code Local-part}, or null. */
    static String localPartProblem(String s) {
        if (s == null || s.isEmpty()) {
            return "empty";
        }
        if (s.length() > MAX_LOCAL_PART) {
            return "over " + MAX_LOCAL_PART + " characters";
        }
        if (s.charAt(0) == '"') {
            return quotedStringProblem(s);
        }
        // Dot-string = Atom *("." Atom)
        boolean atomStart = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.') {
                if (atomStart) {
                    return "empty atom";
                }
                atomStart = true;
            } else if (isAtext(c)) {
                atomStart = false;
            } else {
                return "character " + describe(c);
            }
        }
        return atomStart ? "ends with '.'" : null;
    }

    private static String quotedStringProblem(String s) {
        // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
        if (s.length() < 2 || s.charAt(s.length() - 1) != '"') {
            return "unterminated quoted string";
        }
        for (int i = 1; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                // quoted-pairSMTP = %d92 %d32-126
                if (i + 1 >= s.length() - 1) {
                    return "backslash at the end";
                }
                char next = s.charAt(++i);
                if (next < 32 || next > 126) {
                    return "character " + describe(next);
                }
            } else if (c == '"') {
                return "quote inside a quoted string";
            } else if (c < 32 || c > 126 || c == '<' || c == '>') {
                // qtextSMTP = %d32-33 / %d35-91 / %d93-126, less the angle brackets
                return "character " + describe(c);
            }
        }
        return null;
    }

    /** RFC 5322 §3.2.3 atext. */
    private static boolean isAtext(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
    }

    private static String describe(char c) {
        return c > 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    /** {@code local@domain}, as it goes into {@code MAIL FROM:<…>} and {@code RCPT TO:<…>}. */
    @Override
    public String toString() {
        return localPart + "@" + domain.name();
    }
}
