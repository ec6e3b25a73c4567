package org.tlspolicy.postfix;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Postfix's {@code smtp_tls_loglevel}: a number (0 to 9) or a list of words (tls_misc.c,
 * {@code tls_log_table}). What matters here is whether smtp(8) logs each TLS session's summary
 * ({@code Verified TLS connection established to …}): at level 0, Postfix's default and
 * Debian's, it logs none, and a session that used TLS looks in the log exactly like one in the
 * clear. Counting such a log would report every delivery as {@code starttls-not-supported}.
 */
public record TlsLogLevel(String value) {

    /** tls_misc.c: the levels and words that include TLS_LOG_SUMMARY. */
    private static final Set<String> SUMMARY = Set.of("1", "2", "3", "4", "5", "6", "7", "8", "9",
            "routine", "debug", "ssl-expert", "ssl-developer", "summary");

    /** The services whose lines tlsrpt-sender counts (postfix/smtp and postfix/relay). */
    public static final List<String> SMTP_CLIENTS = List.of("smtp/unix", "relay/unix");

    public TlsLogLevel {
        value = value.strip();
    }

    /** Whether smtp(8) at this level logs one summary line per TLS session. */
    public boolean logsSessions() {
        for (String word : value.toLowerCase(Locale.ROOT).split("[\\s,]+")) {
            if (SUMMARY.contains(word)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Why Postfix's log cannot show which sessions used TLS, naming the service and the fix;
     * empty when every SMTP client service of master.cf logs them. Services that master.cf
     * does not have are skipped; a postconf that cannot answer is reported as such.
     */
    public static Optional<String> problem(Postconf postconf) {
        for (String service : SMTP_CLIENTS) {
            if (postconf.masterEntry(service).isEmpty()) {
                continue;
            }
            Optional<String> v = postconf.serviceValue(service, "smtp_tls_loglevel");
            if (v.isEmpty()) {
                return Optional.of("postconf cannot tell smtp_tls_loglevel of " + service);
            }
            TlsLogLevel level = new TlsLogLevel(v.get());
            if (!level.logsSessions()) {
                return Optional.of("Postfix does not log its TLS sessions (" + service
                        + " smtp_tls_loglevel = " + (level.value().isEmpty() ? "\"\""
                        : level.value()) + "), so a session with TLS looks like one in the "
                        + "clear: set smtp_tls_loglevel = 1 (postconf -e 'smtp_tls_loglevel = 1'"
                        + " && postfix reload)");
            }
        }
        return Optional.empty();
    }
}
