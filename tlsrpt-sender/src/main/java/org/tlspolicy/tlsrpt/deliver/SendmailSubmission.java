package org.tlspolicy.tlsrpt.deliver;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.tlspolicy.smtp.Mailbox;

/**
 * Hands report mail to the local MTA through its sendmail(1) command ({@code sendmail -i -f
 * FROM -- TO}, the message on standard input; Postfix turns the CRLF line ends into its own).
 * Exit 0 is delivered; the sysexits.h codes of passing trouble (75 EX_TEMPFAIL, 69
 * EX_UNAVAILABLE, 71 EX_OSERR, 74 EX_IOERR) and a command that does not finish in time are
 * temporary; any other exit is permanent.
 */
public final class SendmailSubmission implements MailSubmission {

    private final List<String> command;
    private final Duration timeout;

    /** @param command the sendmail command and any arguments of its own (e.g. {@code -C DIR}) */
    public SendmailSubmission(List<String> command, Duration timeout) {
        this.command = List.copyOf(command);
        this.timeout = timeout;
    }

    @Override
    public DeliveryOutcome submit(Mailbox from, Mailbox to, byte[] message) {
        List<String> argv = new ArrayList<>(command);
        // "--": the recipient is never taken for an option, whatever it starts with.
        argv.addAll(List.of("-i", "-f", from.toString(), "--", to.toString()));
        Process p;
        try {
            p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new DeliveryOutcome.Temporary("sendmail: " + e.getMessage());
        }
        try {
            try (OutputStream in = p.getOutputStream()) {
                in.write(message);
            }
            // Its output is small (a warning at most); read it so that it cannot block.
            String out = new String(p.getInputStream().readNBytes(4096), StandardCharsets.UTF_8)
                    .strip();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new DeliveryOutcome.Temporary("sendmail did not finish within "
                        + timeout.toSeconds() + " s");
            }
            int exit = p.exitValue();
            String why = "sendmail exit " + exit + (out.isEmpty() ? "" : ": " + out);
            return switch (exit) {
                case 0 -> new DeliveryOutcome.Delivered(out.isEmpty() ? "sendmail" : why);
                case 69, 71, 74, 75 -> new DeliveryOutcome.Temporary(why);
                default -> new DeliveryOutcome.Permanent(why);
            };
        } catch (IOException e) {
            p.destroyForcibly();
            return new DeliveryOutcome.Temporary("sendmail: " + e.getMessage());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return new DeliveryOutcome.Temporary("interrupted");
        }
    }
}
