package org.tlspolicy.tlsrpt.deliver;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.tlspolicy.smtp.Domain;
import org.tlspolicy.smtp.Mailbox;

/**
 * Hands report mail to the local MTA over SMTP (RFC 5321): EHLO, MAIL, RCPT, DATA (with
 * dot-stuffing), QUIT, on a connection to {@code host:port} (Postfix on 127.0.0.1:25). The MTA
 * then delivers it, with its own retries. A 250 after the data is delivered; a 5xx reply
 * permanent; 4xx or network trouble temporary.
 *
 * <p>Its arguments are typed ({@link Mailbox}, {@link Domain}) and cannot hold a line end; every
 * command is checked once more before it is written, so that a CR or LF from anywhere can never
 * start a command of its own (RFC 5321 §2.3.8: lines end in CRLF, and nothing else may).
 */
public final class SmtpSubmission implements MailSubmission {

    private final InetSocketAddress server;
    private final Domain helo;
    private final int timeoutMillis;

    public SmtpSubmission(InetSocketAddress server, Domain helo, Duration timeout) {
        this.server = server;
        this.helo = helo;
        this.timeoutMillis = (int) timeout.toMillis();
    }

    @Override
    public DeliveryOutcome submit(Mailbox from, Mailbox to, byte[] message) {
        try (Socket s = new Socket()) {
            s.connect(server, timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            Reply r = reply(in);
            if (r.code() != 220) {
                return failed("greeting", r);
            }
            for (String[] step : new String[][] {{"EHLO " + helo, "250"},
                {"MAIL FROM:<" + from + ">", "250"}, {"RCPT TO:<" + to + ">", "250"},
                {"DATA", "354"}}) {
                command(out, step[0]);
                r = reply(in);
                if (r.code() != Integer.parseInt(step[1])
                        && !(step[1].equals("250") && r.code() == 251)) {
                    return failed(step[0].split(" ")[0], r);
                }
            }
            out.write(dotStuffed(message));
            out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            r = reply(in);
            if (r.code() != 250) {
                return failed("end of data", r);
            }
            command(out, "QUIT");
            return new DeliveryOutcome.Delivered(r.text());
        } catch (IOException e) {
            return new DeliveryOutcome.Temporary("SMTP " + server + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            return new DeliveryOutcome.Permanent("SMTP: " + e.getMessage());
        }
    }

    private record Reply(int code, String text) {
    }

    private static DeliveryOutcome failed(String step, Reply r) {
        String why = "SMTP " + step + ": " + r.text();
        return r.code() >= 500 ? new DeliveryOutcome.Permanent(why)
                : new DeliveryOutcome.Temporary(why);
    }

    /**
     * Writes one command line.
     *
     * @throws IllegalArgumentException when {@code line} holds a control character (CR and LF
     *                                  among them) or anything but ASCII: nothing is written
     */
    static void command(OutputStream out, String line) throws IOException {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c < 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException("refused to send a command with character "
                        + String.format("U+%04X", (int) c) + " in it");
            }
        }
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** A reply, multi-line ones included ({@code 250-…} lines until {@code 250 …}). */
    private static Reply reply(InputStream in) throws IOException {
        StringBuilder all = new StringBuilder();
        while (true) {
            String line = line(in);
            if (line.length() < 3) {
                throw new IOException("bad SMTP reply '" + line + "'");
            }
            all.append(all.length() > 0 ? " " : "").append(line);
            if (line.length() == 3 || line.charAt(3) == ' ') {
                try {
                    return new Reply(Integer.parseInt(line.substring(0, 3)), all.toString());
                } catch (NumberFormatException e) {
                    throw new IOException("bad SMTP reply '" + line + "'");
                }
            }
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (b.size() > 4096) {
                throw new IOException("SMTP reply line too long");
            }
            b.write(c);
        }
        if (c < 0) {
            throw new IOException("connection closed");
        }
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** RFC 5321 §4.5.2: a line starting with '.' gets another '.'; the message ends in CRLF. */
    static byte[] dotStuffed(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 64);
        boolean lineStart = true;
        for (byte b : message) {
            if (lineStart && b == '.') {
                out.write('.');
            }
            out.write(b);
            lineStart = b == '\n';
        }
        if (!lineStart) {
            out.write('\r');
            out.write('\n');
        }
        return out.toByteArray();
    }
}
