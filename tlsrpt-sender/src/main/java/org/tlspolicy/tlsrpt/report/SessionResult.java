package org.tlspolicy.tlsrpt.report;

/** How one session counts in a report: a success, or a failure of one result type. */
public sealed interface SessionResult {

    record Success() implements SessionResult {
    }

    /**
     * @param type                  the RFC 8460 result type
     * @param reasonCode            what the sending MTA said of it (RFC 8460 §4.4 {@code
     *                              failure-reason-code}, free text: Postfix's words or its
     *                              TLSRPT reason), or ""
     * @param additionalInformation a URI with more (§4.4 {@code additional-information}), or ""
     */
    record Failure(ResultType type, String reasonCode, String additionalInformation)
            implements SessionResult {

        public Failure(ResultType type, String reasonCode) {
            this(type, reasonCode, "");
        }
    }
}
