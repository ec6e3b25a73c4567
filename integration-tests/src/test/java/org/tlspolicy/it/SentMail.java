package org.tlspolicy.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One message per scenario through the sending Postfix, and what can be said of it from
 * Postfix alone: its log line for the recipient, its queue, the receiving Postfix's log. Each
 * message's log lines are saved under {@code target/postfix-log-fixtures/postfix-VERSION/} (for
 * a sender other than the main one, {@code postfix-VERSION-NAME/}) as the fixture of its
 * scenario (numbered in the order sent; the directory is emptied when this is made).
 *
 * <p>Every attempt is also checked for Postfix refusing tlspolicyd's reply: a policy it cannot
 * parse (an unknown attribute, an unexpected value) makes it defer the mail as "client TLS
 * configuration problem", which only the scenarios that ask for a deferral may see.
 */
final class SentMail {

    /** One message's first delivery attempt, and the sender's log lines it produced. */
    record Attempt(PostfixLog.Delivery delivery, List<String> lines) {

        boolean logged(String text) {
            return lines.stream().anyMatch(l -> l.contains(text));
        }
    }

    /** Postfix's words when it cannot use a policy table value (smtp_tls_policy.c). */
    static final List<String> POLICY_REFUSED = List.of("has an unexpected value",
            "invalid attribute name", "malformed attribute", "has a malformed value",
            "built-in policy has unexpected attribute", "is specified multiple times",
            "has empty value", "invalid security level");

    private final Path fixtures;
    private final String version;
    private final PostfixContainer sender;
    private final PostfixContainer receiver;
    private final String from;
    private int fixture;

    SentMail(PostfixContainer sender, PostfixContainer receiver, String from)
            throws IOException {
        this.sender = sender;
        this.receiver = receiver;
        this.from = from;
        // One directory per Postfix version and sending Postfix: postfix-3.10, and e.g.
        // postfix-3.10-sender-may for the scenarios of a differently configured one.
        String name = sender.name().equals("sender") ? "" : "-" + sender.name();
        this.fixtures = Path.of("target", "postfix-log-fixtures",
                "postfix-" + sender.release().postfix() + name);
        try {
            this.version = sender.exec("postconf", "-h", "mail_version").strip();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        if (Files.isDirectory(fixtures)) {
            try (Stream<Path> old = Files.list(fixtures)) {
                for (Path f : old.toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    /**
     * Sends one message to {@code user@domain.test}, waits for the outcome of its first delivery
     * attempt and saves the log lines as the fixture of {@code scenario}.
     */
    Attempt deliver(String domain, String user, String scenario) throws Exception {
        String rcpt = user + "@" + domain + ".test";
        PostfixLog log = sender.log();
        int mark = log.mark();
        sender.send(from, rcpt, scenario);
        PostfixLog.Delivery d = log.awaitDelivery(rcpt, mark, 60);
        if (d.sent()) {
            log.awaitLine(d.queueId() + ": removed", mark, 10);
        }
        List<String> lines = log.linesSince(mark);
        saveFixture(scenario, d, lines);
        Attempt a = new Attempt(d, lines);
        for (String refused : POLICY_REFUSED) {
            assertNotLogged(a, refused);
        }
        return a;
    }

    /** Postfix used the policy it was given: no "client TLS configuration problem". */
    static void assertPolicyUsed(Attempt a) {
        assertNotLogged(a, "client TLS configuration problem");
        assertNotLogged(a, "TLS policy lookup");
    }

    private void saveFixture(String scenario, PostfixLog.Delivery d, List<String> lines)
            throws IOException {
        Files.createDirectories(fixtures);
        String name = "%02d-%s.log".formatted(++fixture, scenario.toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9]+", "-"));
        StringBuilder b = new StringBuilder()
                .append("# scenario: ").append(scenario).append('\n')
                .append("# outcome: ").append(d.recipient()).append(" status=").append(d.status())
                .append(" relay=").append(d.relay()).append('\n')
                .append("# Postfix ").append(version).append(" (")
                .append(sender.release().debian())
                .append(") maillog_file lines, written by tlspolicy's MailDeliveryScenarios\n");
        lines.forEach(l -> b.append(l).append('\n'));
        Files.writeString(fixtures.resolve(name), b, StandardCharsets.UTF_8);
    }

    /** The receiving Postfix accepted (and discarded) mail for {@code rcpt}. */
    private boolean received(String rcpt) throws IOException {
        return receiver.log().lines().stream()
                .anyMatch(l -> l.contains("to=<" + rcpt + ">") && l.contains("status=sent"));
    }

    /** The message is in the sender's deferred queue with {@code reason} for {@code rcpt}. */
    private void assertDeferredInQueue(PostfixLog.Delivery d, String reason) throws Exception {
        String queue = sender.queue();
        String entry = queue.lines().filter(l -> l.contains("\"queue_id\": \"" + d.queueId()
                + "\"")).findFirst().orElseThrow(() -> new AssertionError(d.queueId()
                + " not in the queue: " + queue));
        assertTrue(entry.contains("\"queue_name\": \"deferred\""), entry);
        assertTrue(entry.contains("\"address\": \"" + d.recipient() + "\""), entry);
        assertTrue(entry.contains(reason), "delay_reason should contain '" + reason + "': "
                + entry);
    }

    static void assertLogged(Attempt a, String text) {
        assertTrue(a.logged(text), "no line with '" + text + "' in\n" + String.join("\n",
                a.lines()));
    }

    static void assertNotLogged(Attempt a, String text) {
        assertFalse(a.logged(text), "a line with '" + text + "' in\n" + String.join("\n",
                a.lines()));
    }

    void assertDelivered(Attempt a) throws Exception {
        assertTrue(a.delivery().sent(), a.delivery().line());
        assertPolicyUsed(a);
        // The receiving side saw it too: it was really handed over.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!received(a.delivery().recipient()) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(received(a.delivery().recipient()), "receiver log has no delivery for "
                + a.delivery().recipient());
    }

    void assertDeferred(Attempt a, String reason) throws Exception {
        assertTrue(a.delivery().deferred(), a.delivery().line());
        if (!reason.contains("client TLS configuration problem")) {
            assertPolicyUsed(a);
        }
        assertTrue(a.delivery().reason().contains(reason),
                "reason should contain '" + reason + "': " + a.delivery().line());
        assertDeferredInQueue(a.delivery(), reason);
        assertFalse(received(a.delivery().recipient()), "the receiver got the message");
    }
}
