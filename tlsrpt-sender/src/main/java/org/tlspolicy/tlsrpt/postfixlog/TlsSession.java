package org.tlspolicy.tlsrpt.postfixlog;

import java.time.Instant;

/**
 * One outbound TLS session (or attempt at one) with a receiving MX, as assembled from Postfix's
 * log: for which recipient domain, with which MX, for mail from whom, and what happened.
 *
 * @param time   when the outcome was logged
 * @param domain the recipient (policy) domain, lower case
 * @param sender the envelope sender of the message ("" if the queue manager's line was not
 *               seen), so that the report mail's own sessions can be left out
 * @param mx     the MX; its IP is "" when no connection was made
 * @param facts  what Postfix logged about the session
 */
public record TlsSession(Instant time, String domain, String sender, Endpoint mx,
                         SessionFacts facts) {
}
