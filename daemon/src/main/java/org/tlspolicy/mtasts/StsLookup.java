package org.tlspolicy.mtasts;

import java.time.Duration;
import java.util.Locale;

/**
 * One fresh MTA-STS resolution of a policy domain from the network (RFC 8461 §3): what the TXT
 * record said, and, when it announced a policy, what fetching and parsing it gave.
 */
public sealed interface StsLookup {

    /**
     * Time spent on the TXT lookup, the policy host's address lookup (which runs alongside it
     * on a fresh resolution) and the HTTPS fetch with its phases; zero when not attempted.
     */
    record Timings(Duration txt, Duration address, Duration fetch, PolicyFetch.Phases phases) {
        public static final Timings NONE = new Timings(Duration.ZERO, Duration.ZERO,
                Duration.ZERO, PolicyFetch.Phases.NONE);

        /**
         * The log's form: {@code txt_ms=… address_ms=… fetch_ms=… connect_ms=… tls_ms=…
         * response_ms=…}, milliseconds with one decimal (the query command shows the same).
         */
        public String logFields() {
            return "txt_ms=" + ms(txt) + " address_ms=" + ms(address) + " fetch_ms=" + ms(fetch)
                    + " connect_ms=" + ms(phases.connect()) + " tls_ms=" + ms(phases.tls())
                    + " response_ms=" + ms(phases.response());
        }

        /** Milliseconds with one decimal. */
        public static String ms(Duration d) {
            return String.format(Locale.ROOT, "%.1f", d.toNanos() / 1e6);
        }
    }

    Timings timings();

    /** A valid policy: {@code body} exactly as served, {@code policy} its parse. */
    record Found(StsRecord record, StsPolicy policy, String body, Timings timings)
            implements StsLookup {
    }

    /**
     * The domain does not use MTA-STS: no {@code _mta-sts} TXT record, the name does not exist,
     * or the records are unusable (RFC 8461 §3.1: then "assume no policy").
     */
    record Absent(String reason, Timings timings) implements StsLookup {
    }

    /** The TXT lookup itself failed (SERVFAIL, timeout): whether MTA-STS is used is unknown. */
    record Unavailable(String reason, Timings timings) implements StsLookup {
    }

    /** The TXT record announces a policy, but no valid policy could be had. */
    record Failed(StsRecord record, StsFailure failure, String reason, Timings timings)
            implements StsLookup {
    }
}
