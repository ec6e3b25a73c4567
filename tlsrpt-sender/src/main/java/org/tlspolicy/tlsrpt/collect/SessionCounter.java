package org.tlspolicy.tlsrpt.collect;

import org.tlspolicy.tlsrpt.policy.PolicySource;
import org.tlspolicy.tlsrpt.postfixlog.TlsSession;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.SessionClassifier;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.SessionCount;

import java.io.IOException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Counts sessions for the store: each classified under the policy tlspolicyd applies to its
 * domain, added up per day, policy, result and (for failures) MX, until drained into a batch.
 * Sessions of the report mail itself (envelope sender one of {@code ownSenders}) are not
 * counted: a failing report must not report on itself (no report loops).
 */
final class SessionCounter {

    private record Key(LocalDate day, AppliedPolicy policy, SessionResult result, String mxHost,
                       String mxIp) {
    }

    private final PolicySource policies;
    private final Set<String> ownSenders;
    private final Map<Key, Long> counts = new LinkedHashMap<>();
    private final TlsLogging logging;
    private long uncounted;

    SessionCounter(PolicySource policies, Set<String> ownSenders, TlsLogging logging) {
        this.policies = policies;
        this.ownSenders = Set.copyOf(ownSenders);
        this.logging = logging;
    }

    /** @throws IOException when the domain's policy cannot be had now */
    void count(TlsSession s) throws IOException {
        if (ownSenders.contains(s.sender().toLowerCase(Locale.ROOT))) {
            return;
        }
        if (logging.problem().isPresent()) {
            uncounted++; // no TLS lines to tell TLS from the clear: not counted (TlsLogging)
            return;
        }
        AppliedPolicy policy = policies.policy(s.domain());
        SessionClassifier.classify(s.facts(), policy).ifPresent(result -> {
            LocalDate day = s.time().atZone(ZoneOffset.UTC).toLocalDate();
            Key k = result instanceof SessionResult.Failure
                    ? new Key(day, policy, result, s.mx().host(), s.mx().ip())
                    : new Key(day, policy, result, "", "");
            counts.merge(k, 1L, Long::sum);
        });
    }

    /** Sessions not counted because Postfix did not log TLS sessions, since this was made. */
    long uncounted() {
        return uncounted;
    }

    /** The counts so far, as store rows; starts again from nothing. */
    List<SessionCount> drain() {
        List<SessionCount> rows = new ArrayList<>(counts.size());
        counts.forEach((k, n) -> rows.add(new SessionCount(k.day(), k.policy(), k.result(),
                k.mxHost(), k.mxIp(), n)));
        counts.clear();
        return rows;
    }
}
