package org.tlspolicy.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The log file a Postfix container writes (maillog_file), read as an operator greps it: the
 * outcome of a message is its delivery agent's {@code QUEUEID: to=<…>, relay=…, status=…} line.
 */
final class PostfixLog {

    // postfix/smtp[123]: 4B1D2C3E4F: to=<a@b.test>, relay=mx.b.test[127.0.2.1]:25, delay=0.2,
    // delays=0.1/0/0.1/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 1A2B3C)
    private static final Pattern STATUS = Pattern.compile(
            "postfix/([\\w/-]+)\\[\\d+\\]: ([0-9A-F]+): to=<([^>]*)>, (?:orig_to=<[^>]*>, )?"
                    + "relay=([^,]+), .*dsn=([0-9.]+), status=(\\w+) \\((.*)\\)$");

    /** One recipient's outcome of one delivery attempt. */
    record Delivery(String agent, String queueId, String recipient, String relay, String dsn,
                    String status, String reason, String line) {

        boolean sent() {
            return status.equals("sent");
        }

        boolean deferred() {
            return status.equals("deferred");
        }
    }

    private final Path file;

    PostfixLog(Path file) {
        this.file = file;
    }

    List<String> lines() throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }

    /** How many lines the log has now: a mark for {@link #linesSince}. */
    int mark() throws IOException {
        return lines().size();
    }

    List<String> linesSince(int mark) throws IOException {
        List<String> all = lines();
        return new ArrayList<>(all.subList(Math.min(mark, all.size()), all.size()));
    }

    /**
     * Waits for the first outcome for {@code recipient} logged after {@code mark}; fails the
     * test with the log's new lines if none comes within {@code seconds}.
     */
    Delivery awaitDelivery(String recipient, int mark, int seconds)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            for (String line : linesSince(mark)) {
                Matcher m = STATUS.matcher(line);
                if (m.find() && m.group(3).equalsIgnoreCase(recipient)) {
                    return new Delivery(m.group(1), m.group(2), m.group(3), m.group(4),
                            m.group(5), m.group(6), m.group(7), line);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no outcome for " + recipient + " within " + seconds
                        + " s; the log since: \n" + String.join("\n", linesSince(mark)));
            }
            Thread.sleep(100);
        }
    }

    /** Waits until {@code text} appears in a line logged after {@code mark}. */
    String awaitLine(String text, int mark, int seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            for (String line : linesSince(mark)) {
                if (line.contains(text)) {
                    return line;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no line containing '" + text + "' within " + seconds
                        + " s; the log since: \n" + String.join("\n", linesSince(mark)));
            }
            Thread.sleep(100);
        }
    }
}
