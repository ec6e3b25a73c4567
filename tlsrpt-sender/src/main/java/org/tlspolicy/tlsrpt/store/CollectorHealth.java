package org.tlspolicy.tlsrpt.store;

import java.time.Instant;

/**
 * How a collector's reading of one source went, as {@code tlsrpt-sender status} shows it.
 *
 * @param source    the source ({@code journal}, a log file, {@code datagrams})
 * @param lastEntry the time of the newest entry or line counted (EPOCH: none yet)
 * @param readAt    when a batch was last committed (EPOCH: never)
 * @param problem   why reading stopped, as last seen, or "" when reading goes on
 * @param problemAt when that problem was seen (or cleared)
 * @param dropped   sessions not counted because their recipient domain is no host name
 */
public record CollectorHealth(String source, Instant lastEntry, Instant readAt, String problem,
                              Instant problemAt, long dropped) {
}
