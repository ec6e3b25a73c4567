package org.tlspolicy.tlsrpt.collect;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.SQLException;

/**
 * Reads a source for ever: to its end, then again every poll interval. A failure (policy
 * server unreachable, log missing, store locked) is logged once per kind and retried from the
 * stored position; nothing is lost by waiting.
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
    static void follow(String source, Read read, long pollMillis) {
        String lastProblem = null;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                long n = read.toEnd();
                if (lastProblem != null) {
                    log.info("collect source={} resumed", source);
                    lastProblem = null;
                }
                if (n > 0) {
                    log.debug("collect source={} lines={}", source, n);
                }
            } catch (IOException | SQLException e) {
                String problem = e.getClass().getSimpleName() + ": " + e.getMessage();
                if (!problem.equals(lastProblem)) {
                    log.warn("collect source={} waiting: {}", source, problem);
                    lastProblem = problem;
                }
            }
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
