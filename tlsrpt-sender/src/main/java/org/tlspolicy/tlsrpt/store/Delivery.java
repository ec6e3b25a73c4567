package org.tlspolicy.tlsrpt.store;

import java.time.LocalDate;

/**
 * The persisted state of one report to one destination: the unit of exactly-once delivery.
 *
 * @param state       {@code pending} (to be sent), {@code sending} (an attempt began and was
 *                    not seen to end: sent again, with the same report-id), {@code sent},
 *                    {@code failed} (permanently refused) or {@code expired} (given up)
 * @param nextAttempt epoch milliseconds before which no attempt is made
 */
public record Delivery(LocalDate day, String domain, String destination, String reportId,
                       String state, int attempts, long nextAttempt, String lastError) {
}
