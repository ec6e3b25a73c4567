package org.tlspolicy.tlsrpt.received;

import java.time.Instant;
import java.util.List;

/**
 * A TLS report another domain sent us (RFC 8460 §4.4), as far as it was read: every field the
 * summary and the rollout use, checked. The raw report is kept beside it, unknown fields and
 * all.
 *
 * @param organization the reporter ({@code organization-name})
 * @param reportId     its {@code report-id}: with the organization, what makes a report one
 * @param start        {@code date-range.start-datetime}
 * @param end          {@code date-range.end-datetime}
 * @param contact      {@code contact-info}, or ""
 * @param policies     one entry per policy the reporter applied
 */
public record ReceivedReport(String organization, String reportId, Instant start, Instant end,
                             String contact, List<Policy> policies) {

    public ReceivedReport {
        policies = List.copyOf(policies);
    }

    /**
     * One policy's sessions.
     *
     * @param type       {@code sts}, {@code tlsa} or {@code no-policy-found}
     * @param domain     {@code policy-domain}: a host name
     * @param strings    {@code policy-string}, as sent
     * @param mxHosts    {@code mx-host}, a string or an array in the wild, always a list here
     * @param successful {@code total-successful-session-count}
     * @param failed     {@code total-failure-session-count}
     * @param failures   {@code failure-details}
     */
    public record Policy(String type, String domain, List<String> strings, List<String> mxHosts,
                         long successful, long failed, List<Failure> failures) {
        public Policy {
            strings = List.copyOf(strings);
            mxHosts = List.copyOf(mxHosts);
            failures = List.copyOf(failures);
        }
    }

    /**
     * One group of failed sessions ({@code failure-details}); empty strings where a field was
     * not sent.
     */
    public record Failure(String resultType, String sendingIp, String receivingMx,
                          String receivingHelo, String receivingIp, long count,
                          String additionalInformation, String reasonCode) {
    }
}
