package org.tlspolicy.tlsrpt.report;

/** How one session counts in a report: a success, or a failure of one result type. */
public sealed interface SessionResult {

    record Success() implements SessionResult {
    }

    /**
     * @param type   the RFC 8460 result type
     * @param detail Postfix's own words for it (the report's {@code additional-information})
     */
    record Failure(ResultType type, String detail) implements SessionResult {
    }
}
