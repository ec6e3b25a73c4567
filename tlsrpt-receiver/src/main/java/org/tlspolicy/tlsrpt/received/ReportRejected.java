package org.tlspolicy.tlsrpt.received;

/**
 * Why a report (or the mail that carried it) is not taken: a reason for one log line and the
 * quarantine, in words.
 */
public final class ReportRejected extends Exception {

    public ReportRejected(String reason) {
        super(reason, null, false, false);
    }
}
