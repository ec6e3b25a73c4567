package org.tlspolicy.tlsrpt.store;

import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.SessionResult;

import java.time.LocalDate;

/**
 * How many sessions of one UTC day, for one report, held to one policy, ended one way with one
 * MX: a row of the store and a line of a report. Successes are counted per policy only (a
 * report lists no details for them): their endpoint fields are empty.
 *
 * @param day          the UTC day of the sessions
 * @param reportDomain the domain whose report counts them and whose TLSRPT record says where
 *                     it goes: the recipient domain Postfix delivered for. For MTA-STS and no
 *                     policy it is also the policy domain; for DANE, Postfix names the TLSA
 *                     base domain (the MX host) as policy domain (RFC 8460 §4.4)
 * @param policy       the policy they were held to
 * @param result       success or a failure of one result type
 * @param sendingIp    our address on the session (failures; RFC 8460 §4.4 sending-mta-ip)
 * @param mxHost       the receiving MX's name (failures)
 * @param mxHelo       the name the MX gave in its EHLO (failures), or ""
 * @param mxIp         the receiving MX's address; empty if none was connected to
 * @param count        how many
 */
public record SessionCount(LocalDate day, String reportDomain, AppliedPolicy policy,
                           SessionResult result, String sendingIp, String mxHost, String mxHelo,
                           String mxIp, long count) {

    /** A count whose report domain is its policy domain, without sending IP or EHLO name. */
    public SessionCount(LocalDate day, AppliedPolicy policy, SessionResult result,
                        String mxHost, String mxIp, long count) {
        this(day, policy.domain(), policy, result, "", mxHost, "", mxIp, count);
    }
}
