package org.tlspolicy.tlsrpt.collect;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tlspolicy.log.LogValue;
import org.tlspolicy.postfix.Postconf;
import org.tlspolicy.postfix.TlsLogLevel;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Whether Postfix's log says which sessions used TLS ({@link TlsLogLevel}), asked of postconf
 * again at most once a minute, so that {@code postconf -e 'smtp_tls_loglevel = 1'} takes
 * effect without a restart. While it does not, nothing is counted: every delivery would
 * otherwise be reported as {@code starttls-not-supported}. Where there is no postconf (a log
 * read on another host) nothing can be checked and every session counts.
 */
public final class TlsLogging {

    private static final Logger log = LoggerFactory.getLogger(TlsLogging.class);

    static final long RECHECK_NANOS = 60_000_000_000L;

    /** Asks Postfix why its log shows no TLS sessions; null where there is no Postfix. */
    private final Supplier<Optional<String>> check;
    private final LongSupplier nanos;
    private Optional<String> problem = Optional.empty();
    private long checkedAt;
    private boolean checked;
    /** The problem last reported (logged and stored), or null if none was. */
    private String reported;
    private boolean reportedOnce;
    static final String COUNTING_NOTHING = "counting nothing: ";

    TlsLogging(Supplier<Optional<String>> check, LongSupplier nanos) {
        this.check = check;
        this.nanos = nanos;
    }

    /** Checks the Postfix that {@code postconf} reads, if there is one. */
    public static TlsLogging of(Optional<Postconf> postconf) {
        return new TlsLogging(postconf.<Supplier<Optional<String>>>map(
                p -> () -> TlsLogLevel.problem(p)).orElse(null), System::nanoTime);
    }

    /** Checks nothing: every session counts (a log from elsewhere, tests). */
    public static TlsLogging unchecked() {
        return new TlsLogging(null, System::nanoTime);
    }

    /** Whether there is a Postfix here to check. */
    public boolean checks() {
        return check != null;
    }

    /** Why nothing is counted now, or empty when sessions count. */
    public synchronized Optional<String> problem() {
        if (check == null) {
            return Optional.empty();
        }
        long now = nanos.getAsLong();
        if (!checked || now - checkedAt >= RECHECK_NANOS) {
            problem = check.get().map(p -> COUNTING_NOTHING + p);
            checkedAt = now;
            checked = true;
        }
        return problem;
    }

    /**
     * Logs and stores (for {@code tlsrpt-sender status}) {@link #problem()} when it changed
     * since the last report: one warning when counting stops, one line when it starts again.
     * The first report stores it either way, so that a restart after the fix clears what an
     * earlier run stored.
     */
    synchronized void report(SessionStore store, String source) throws SQLException {
        String now = problem().orElse(null);
        if (reportedOnce && java.util.Objects.equals(now, reported)) {
            return;
        }
        if (now != null) {
            log.warn("collect source={} {}", source, LogValue.quoted(now));
        } else if (reported != null) {
            log.info("collect source={} counting again: Postfix logs its TLS sessions", source);
        }
        if (now != null || reportedOnce || store.health().stream().anyMatch(h -> h.source()
                .equals(source) && h.problem().startsWith(COUNTING_NOTHING))) {
            store.problem(source, now == null ? "" : now, Instant.now());
        }
        reported = now;
        reportedOnce = true;
    }
}
