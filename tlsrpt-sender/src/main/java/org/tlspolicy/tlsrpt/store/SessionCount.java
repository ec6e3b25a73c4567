package org.tlspolicy.tlsrpt.store;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.SessionResult;

import java.time.LocalDate;

/**
 * How many sessions of one UTC day, held to one policy, ended one way with one MX: a row of the
 * store and a line of a report. Successes are counted per policy only (a report lists no
 * details for them): their MX host, IP and detail are empty.
 *
 * @param day    the UTC day of the sessions
 * @param policy the policy they were held to
 * @param result success or a failure of one result type (with Postfix's words)
 * @param mxHost the receiving MX's name (failures)
 * @param mxIp   the receiving MX's address; empty if none was connected to
 * @param count  how many
 */
public record SessionCount(LocalDate day, AppliedPolicy policy, SessionResult result,
                           String mxHost, String mxIp, long count) {
}
