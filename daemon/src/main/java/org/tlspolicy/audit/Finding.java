package org.tlspolicy.audit;

import org.tlspolicy.log.LogValue;

/**
 * One line of an audit: a check on one thing of a domain, what was found, and what to change.
 * Texts may quote what servers sent (an EHLO reply, a certificate's names): they are cleaned
 * of control characters and bounded here, before they reach a terminal, a JSON consumer or a
 * metrics file.
 *
 * @param check   the check's name, stable (docs/audit.md): {@code mta-sts-record}, {@code
 *                mta-sts-policy}, {@code policy-host-certificate}, {@code mx}, {@code
 *                mx-pattern}, {@code mx-starttls}, {@code mx-certificate}, {@code
 *                mx-certificate-expiry}, {@code tlsa}, {@code tlsrpt-record}
 * @param subject what was checked: a DNS name, an MX host, a pattern
 * @param level   ok, warn or FAIL
 * @param found   what was found, in words
 * @param advice  what to change, or "" when nothing
 * @param result  the RFC 8460 result type senders report for this problem (so that reports
 *                can be matched with it: {@code certificate-expired}, …), or ""
 * @param host    the MX host it concerns, or "" when it concerns the domain
 */
public record Finding(String check, String subject, Level level, String found, String advice,
                      String result, String host) {

    /** The longest text kept of a finding's words. */
    static final int MAX_TEXT = 600;

    public Finding {
        subject = clean(subject);
        found = clean(found);
        advice = clean(advice);
    }

    private static String clean(String s) {
        String c = LogValue.printable(s);
        return c.length() > MAX_TEXT ? c.substring(0, MAX_TEXT) + "…" : c;
    }
}
