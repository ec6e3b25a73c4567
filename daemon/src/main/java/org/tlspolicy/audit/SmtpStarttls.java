package org.tlspolicy.audit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;

/**
 * What a sending MTA meets on port 25 of an MX host (RFC 5321, RFC 3207): the greeting, EHLO,
 * whether STARTTLS is offered, and the TLS handshake (protocol, cipher, the chain exactly as
 * the server sends it). The chain is taken whatever it is, and judged apart ({@link
 * ServedChain}): a sender that validates would stop at the first problem; the audit wants to
 * name them all. Nothing is sent after the handshake but QUIT. Every step has a time limit.
 */
public final class SmtpStarttls {

    private static final int MAX_LINE = 2048;
    private static final int MAX_LINES = 100;

    private final String ehloName;
    private final Duration timeout;
    private final int port;

    /**
     * @param ehloName the name this host gives in EHLO
     * @param timeout  the limit of each step (connect, each reply, the handshake)
     * @param port     25 (test worlds may use another)
     */
    public SmtpStarttls(String ehloName, Duration timeout, int port) {
        this.ehloName = ehloName;
        this.timeout = timeout;
        this.port = port;
    }

    /** Probes {@code host} at {@code address}. */
    public Handshake probe(String host, java.net.InetAddress address) {
        int ms = (int) timeout.toMillis();
        try (Socket s = new Socket()) {
            // Each read has its limit; a server dripping a byte at a time within it would still
            // hold the probe for long: the whole conversation gets three limits' worth.
            ScheduledFuture<?> cutOff = ChainCollector.cutOff(s, 3L * ms);
            try {
                return converse(s, host, address, ms);
            } finally {
                cutOff.cancel(false);
            }
        } catch (IOException e) {
            return new Handshake.Unreachable(ChainCollector.message(e));
        }
    }

    private Handshake converse(Socket s, String host, java.net.InetAddress address, int ms) {
        try {
            try {
                s.connect(new InetSocketAddress(address, port), ms);
            } catch (IOException e) {
                return new Handshake.Unreachable("connect to " + address.getHostAddress() + ":"
                        + port + " failed: " + ChainCollector.message(e));
            }
            s.setSoTimeout(ms);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            List<String> greeting = reply(in);
            if (!greeting.get(0).startsWith("220")) {
                return new Handshake.Unreachable("greeting: " + greeting.get(0));
            }
            send(out, "EHLO " + ehloName);
            List<String> ehlo = reply(in);
            if (!ehlo.get(0).startsWith("250")) {
                return new Handshake.Unreachable("EHLO answered " + ehlo.get(0));
            }
            boolean offered = ehlo.stream().skip(1).anyMatch(l -> l.length() > 4
                    && l.substring(4).strip().toUpperCase(Locale.ROOT).equals("STARTTLS"));
            if (!offered) {
                send(out, "QUIT");
                return new Handshake.NotOffered(String.join(" / ", ehlo));
            }
            send(out, "STARTTLS");
            List<String> go = reply(in);
            if (!go.get(0).startsWith("220")) {
                return new Handshake.Failed("STARTTLS answered " + go.get(0));
            }
            return ChainCollector.handshake(s, host, ms, "QUIT\r\n");
        } catch (IOException e) {
            return new Handshake.Unreachable(s.isClosed() ? "no complete SMTP conversation "
                    + "within " + 3L * ms + " ms" : ChainCollector.message(e));
        }
    }

    private static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One reply, its lines ({@code 250-…} … {@code 250 …}), bounded. */
    private static List<String> reply(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        while (lines.size() < MAX_LINES) {
            String l = line(in);
            if (l.length() < 3) {
                throw new IOException("not an SMTP reply: '" + l + "'");
            }
            lines.add(l);
            if (l.length() == 3 || l.charAt(3) != '-') {
                return lines;
            }
        }
        throw new IOException("reply of more than " + MAX_LINES + " lines");
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (b.size() >= MAX_LINE) {
                throw new IOException("reply line over " + MAX_LINE + " bytes");
            }
            b.write(c);
        }
        if (c < 0) {
            throw new IOException("connection closed");
        }
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

}
