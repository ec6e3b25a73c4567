package org.tlspolicy.tlsrpt.postfixlog;

import java.util.Optional;

/**
 * Reads {@link SmtpLogEvent}s out of Postfix's log lines: fixed prefixes and positions, no
 * regular expressions (the collector reads hundreds of thousands of lines a second). A line
 * that is not one of the events, or is one cut short or garbled, is no event: never an error.
 */
final class SmtpLogParser {

    private SmtpLogParser() {
    }

    // tls_verify.c: "[server |CA ]certificate verification failed for HOST[IP]:PORT: REASON"
    // (the prefix names the certificate at fault: the server's, or a CA's in its chain).
    private static final String SERVER_VERIFICATION = "server certificate verification failed for ";
    private static final String CA_VERIFICATION = "CA certificate verification failed for ";
    private static final String VERIFICATION = "certificate verification failed for ";
    // tls_client.c
    private static final String HANDSHAKE = "SSL_connect error to ";

    /** The event {@code line} carries, if any. */
    static Optional<SmtpLogEvent> parse(SyslogLine line) {
        String program = line.program();
        if (!program.startsWith("postfix")) {
            return Optional.empty();
        }
        String m = line.message();
        if (program.endsWith("/qmgr")) {
            return queuedFrom(m);
        }
        if (!program.endsWith("/smtp") && !program.endsWith("/relay")) {
            return Optional.empty();
        }
        if (m.startsWith("warning: ")) {
            return warning(m);
        }
        // tls_misc.c tls_log_summary: "TRUST TLS connection established|reused to HOST[IP]:PORT:
        // …"; "reused" when smtp_tls_connection_reuse hands a tlsproxy(8) connection over again.
        for (SmtpLogEvent.Trust t : SmtpLogEvent.Trust.values()) {
            String trust = switch (t) {
                case VERIFIED -> "Verified";
                case TRUSTED -> "Trusted";
                case UNTRUSTED -> "Untrusted";
                case ANONYMOUS -> "Anonymous";
            };
            if (!m.startsWith(trust) || !m.startsWith(" TLS connection ", trust.length())) {
                continue;
            }
            int at = trust.length() + " TLS connection ".length();
            at = m.startsWith("established to ", at) ? at + "established to ".length()
                    : m.startsWith("reused to ", at) ? at + "reused to ".length() : -1;
            if (at < 0) {
                return Optional.empty();
            }
            int end = m.indexOf(": ", at);
            Endpoint mx = Endpoint.parse(m, at, end < 0 ? m.length() : end);
            return mx == null ? Optional.empty()
                    : Optional.of(new SmtpLogEvent.TlsEstablished(t, mx));
        }
        if (m.startsWith(HANDSHAKE)) {
            int end = m.indexOf(": ", HANDSHAKE.length());
            Endpoint mx = end < 0 ? null : Endpoint.parse(m, HANDSHAKE.length(), end);
            return mx == null ? Optional.empty()
                    : Optional.of(new SmtpLogEvent.HandshakeFailed(mx, m.substring(end + 2)));
        }
        int failed = m.startsWith(SERVER_VERIFICATION) ? SERVER_VERIFICATION.length()
                : m.startsWith(CA_VERIFICATION) ? CA_VERIFICATION.length()
                : m.startsWith(VERIFICATION) ? VERIFICATION.length() : -1;
        if (failed > 0) {
            int end = m.indexOf(": ", failed);
            if (end < 0) {
                return Optional.empty();
            }
            Endpoint mx = Endpoint.parse(m, failed, end);
            return mx == null ? Optional.empty()
                    : Optional.of(new SmtpLogEvent.VerificationFailed(mx, m.substring(end + 2)));
        }
        int colon = queueIdEnd(m);
        if (colon < 0) {
            return resumedUntrusted(m);
        }
        String queueId = m.substring(0, colon);
        String rest = m.substring(colon + 2);
        if (rest.startsWith("to=<")) {
            return delivery(queueId, rest);
        }
        if (rest.contains("=")) {
            return Optional.empty(); // other key=value records (e.g. sender non-delivery notice)
        }
        return Optional.of(new SmtpLogEvent.HostFailed(queueId, rest));
    }

    // tls_client.c verify_extract_name: a resumed session whose peer was not verified.
    private static final String RESUMED_UNTRUSTED = ": re-using session with untrusted ";

    /** {@code HOST[IP]:PORT: re-using session with untrusted …}, if {@code m} is that line. */
    private static Optional<SmtpLogEvent> resumedUntrusted(String m) {
        int at = m.indexOf(RESUMED_UNTRUSTED);
        if (at <= 0 || !(m.startsWith("certificate", at + RESUMED_UNTRUSTED.length())
                || m.startsWith("peer credential", at + RESUMED_UNTRUSTED.length()))) {
            return Optional.empty();
        }
        Endpoint mx = Endpoint.parse(m, 0, at);
        return mx == null ? Optional.empty()
                : Optional.of(new SmtpLogEvent.SessionResumedUntrusted(mx));
    }

    private static Optional<SmtpLogEvent> warning(String m) {
        // tls_client.c: "HOST[IP]:PORT: all TLSA records unusable[, fallback to …]": the MX's
        // TLSA records exist but none can be used (dane falls back to unauthenticated TLS).
        String unusable = ": all TLSA records unusable";
        int u = m.indexOf(unusable);
        if (u > 9) {
            Endpoint mx = Endpoint.parse(m, 9, u);
            if (mx != null) {
                return Optional.of(new SmtpLogEvent.VerificationFailed(mx,
                        "all TLSA records unusable"));
            }
        }
        String library = "warning: TLS library problem: ";
        if (m.startsWith(library)) {
            return Optional.of(new SmtpLogEvent.TlsLibraryProblem(m.substring(library.length())));
        }
        String server = " socketmap server temporary error: ";
        int s = m.indexOf(server);
        if (m.startsWith("warning: socketmap:") && s > 0) {
            return Optional.of(new SmtpLogEvent.PolicyServerError(m.substring(s + server.length())));
        }
        // smtp_connect.c: "TLS policy lookup for DEST/HOST: WHY" before connecting to HOST, and
        // "TLS policy lookup error for HOST/ADDR: WHY" before reusing a cached connection (no
        // destination named: the delivery's recipient domain is it).
        String lookupError = "warning: TLS policy lookup error for ";
        if (m.startsWith(lookupError)) {
            int end = m.indexOf(": ", lookupError.length());
            int slash = m.indexOf('/', lookupError.length());
            if (end < 0 || slash < 0 || slash > end) {
                return Optional.empty();
            }
            return Optional.of(new SmtpLogEvent.PolicyLookupFailed("",
                    m.substring(lookupError.length(), slash), m.substring(end + 2)));
        }
        String lookup = "warning: TLS policy lookup for ";
        if (m.startsWith(lookup)) {
            int end = m.indexOf(": ", lookup.length());
            int slash = m.indexOf('/', lookup.length());
            if (end < 0 || slash < 0 || slash > end) {
                return Optional.empty();
            }
            return Optional.of(new SmtpLogEvent.PolicyLookupFailed(m.substring(lookup.length(), slash)
                    .toLowerCase(java.util.Locale.ROOT), m.substring(slash + 1, end),
                    m.substring(end + 2)));
        }
        return Optional.empty();
    }

    private static Optional<SmtpLogEvent> queuedFrom(String m) {
        int colon = queueIdEnd(m);
        if (colon < 0 || !m.startsWith("from=<", colon + 2)) {
            return Optional.empty();
        }
        int close = m.indexOf('>', colon + 8);
        if (close < 0) {
            return Optional.empty();
        }
        return Optional.of(new SmtpLogEvent.QueuedFrom(m.substring(0, colon), m.substring(colon + 8, close)));
    }

    // to=<a@b.test>, [orig_to=<…>, ]relay=mx.b.test[127.0.2.1]:25, delay=0.2,
    // delays=0.1/0/0.1/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 1A2B3C)
    private static Optional<SmtpLogEvent> delivery(String queueId, String rest) {
        int close = recipientEnd(rest, 4);
        if (close < 0 || !rest.startsWith(">, ", close)) {
            return Optional.empty();
        }
        String recipient = rest.substring(4, close);
        int relay = rest.indexOf("relay=", close);
        int relayEnd = relay < 0 ? -1 : rest.indexOf(", ", relay);
        int dsn = rest.indexOf(", dsn=", close);
        int status = rest.indexOf(", status=", close);
        if (relayEnd < 0 || dsn < 0 || status < dsn || recipient.indexOf('@') < 0) {
            return Optional.empty();
        }
        String relayText = rest.substring(relay + 6, relayEnd);
        Endpoint endpoint = relayText.equals("none") ? null
                : Endpoint.parse(relayText, 0, relayText.length());
        if (endpoint == null && !relayText.equals("none")) {
            return Optional.empty();
        }
        int statusEnd = rest.indexOf(' ', status + 9);
        String statusWord = rest.substring(status + 9, statusEnd < 0 ? rest.length()
                : statusEnd);
        String reason = "";
        if (statusEnd > 0 && rest.length() > statusEnd + 2 && rest.charAt(statusEnd + 1) == '('
                && rest.endsWith(")")) {
            reason = rest.substring(statusEnd + 2, rest.length() - 1);
        }
        int delays = rest.indexOf(", delays=", close);
        int delaysEnd = delays < 0 ? -1 : rest.indexOf(", ", delays + 9);
        return Optional.of(new SmtpLogEvent.Delivery(queueId, recipient, endpoint,
                rest.substring(dsn + 6, status), statusWord, reason,
                delaysEnd < 0 ? "" : rest.substring(delays + 9, delaysEnd)));
    }

    /**
     * Where the address that starts at {@code from} ends (the index of its closing {@code >}),
     * read as Postfix logs it (its external form, quote_822_local): a local part that needs
     * quoting is a quoted string, in which {@code "} and {@code \} are escaped with {@code \}
     * and anything else, {@code >, "} and {@code @} included, is text. So {@code
     * to=<"postmaster@victim.test>, "@attacker.test>} is a recipient at attacker.test: ending
     * it at the first {@code >, } would count the session for victim.test. -1 if the address
     * is cut short.
     */
    static int recipientEnd(String s, int from) {
        int i = from;
        if (i < s.length() && s.charAt(i) == '"') {
            for (i++; i < s.length() && s.charAt(i) != '"'; i++) {
                if (s.charAt(i) == '\\') {
                    i++;
                }
            }
            if (i >= s.length()) {
                return -1;
            }
        }
        return s.indexOf('>', i);
    }

    /**
     * Where a leading queue ID ends (the index of its {@code ": "}), or -1. Short IDs are hex;
     * long ones ({@code enable_long_queue_ids}) are base 52 with a 'z' separator: letters and
     * digits either way.
     */
    private static int queueIdEnd(String m) {
        int i = 0;
        int n = Math.min(m.length(), 32);
        while (i < n && Character.isLetterOrDigit(m.charAt(i)) && m.charAt(i) < 128) {
            i++;
        }
        if (i < 6 || i + 1 >= m.length() || m.charAt(i) != ':' || m.charAt(i + 1) != ' ') {
            return -1;
        }
        for (int j = 0; j < i; j++) {
            char c = m.charAt(j);
            if (Character.isDigit(c) || Character.isUpperCase(c)) {
                return i; // not a lower-case word such as "warning" or "timeout"
            }
        }
        return -1;
    }
}
