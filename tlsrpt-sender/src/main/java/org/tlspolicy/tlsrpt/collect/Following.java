package org.tlspolicy.tlsrpt.collect;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Reads a source for ever: to its end, then again every poll interval. A failure (policy
 * server unreachable, log missing, store locked) is logged once per kind and retried from the
 * stored position; nothing is lost by waiting. The problem, and its end, are recorded in the
 * store too, where {@code tlsrpt-sender status} shows them.
 */
final class Following {

    private static final Logger log = LoggerFactory.getLogger(Following.class);

    /** One reading of a source to its current end; returns the lines or entries read. */
    interface Read {
        long toEnd() throws IOException, SQLException;
    }

    private Following() {
    }

    /** Returns when the thread is interrupted. */
    static void follow(String source, Read read, long pollMillis, SessionStore store) {
        String lastProblem = null;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                long n = read.toEnd();
                if (lastProblem != null) {
                    log.info("collect source={} resumed", source);
                    lastProblem = null;
                    record(store, source, "");
                }
                if (n > 0) {
                    log.debug("collect source={} lines={}", source, n);
                }
            } catch (IOException | SQLException e) {
                String problem = (e instanceof SQLException ? "store: " : "") + e.getMessage();
                if (!problem.equals(lastProblem)) {
                    log.warn("collect source={} waiting: {}", source,
                            org.tlspolicy.log.LogValue.quoted(problem));
                    lastProblem = problem;
                    record(store, source, problem);
                }
            }
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void record(SessionStore store, String source, String problem) {
        try {
            store.problem(source, problem, Instant.now());
        } catch (SQLException e) {
            // The store itself is the problem: the log line above says so.
        }
    }
}
