package org.tlspolicy.tlsrpt.deliver;

import org.tlspolicy.outbound.PublicAddress;
import org.tlspolicy.tlsrpt.rua.ReportDestination;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reports to {@code https:} destinations (RFC 8460 §5.4): a POST of the gzip-compressed report
 * as {@code application/tlsrpt+gzip}. 2xx is delivered; 3xx (never followed: a redirect could
 * take the report anywhere) and 4xx permanent (the collector refuses this report: sending it
 * again changes nothing); 5xx and network trouble temporary.
 *
 * <p>The endpoint is named by the domain that wants the reports, that is by anyone, so its
 * host is resolved first (the same DNS servers as the rua lookup) and only global unicast
 * addresses are connected to ({@link PublicAddress}; {@code --allow-private-destinations}, for
 * test worlds on loopback, lifts that). The connection goes to the address that was checked:
 * the JDK's HTTP client would resolve the name again itself (Java 17 has no resolver hook), and
 * a second answer may differ from the first (DNS rebinding). Hence a plain HTTP/1.1 exchange on
 * the JDK's TLS socket, PKIX and host name checked by it (endpoint identification "HTTPS", SNI),
 * of which only the status line is read, within the time limit.
 */
public final class HttpsPost {

    /** Longest status line read; the rest of the response is not read at all. */
    private static final int MAX_STATUS_LINE = 4096;

    private final SSLContext tls;
    private final Resolver dns;
    private final boolean allowPrivate;
    private final Duration connectTimeout;
    private final Duration timeout;

    /**
     * @param dns            resolves the endpoint's host name (A and AAAA)
     * @param allowPrivate   connect to loopback and private addresses too (test worlds only)
     * @param connectTimeout TCP connect limit per address
     * @param timeout        limit for one POST, from the first connect to its status line
     */
    public HttpsPost(SSLContext tls, Resolver dns, boolean allowPrivate, Duration connectTimeout,
                     Duration timeout) {
        this.tls = tls;
        this.dns = dns;
        this.allowPrivate = allowPrivate;
        this.connectTimeout = connectTimeout;
        this.timeout = timeout;
    }

    public DeliveryOutcome post(ReportDestination.Https to, byte[] gzippedReport) {
        List<InetAddress> addresses;
        try {
            addresses = addresses(to.host());
        } catch (IOException e) {
            return new DeliveryOutcome.Temporary("address lookup of " + to.host() + ": "
                    + e.getMessage());
        }
        if (addresses.isEmpty()) {
            return new DeliveryOutcome.Temporary(to.host() + " has no address");
        }
        Map<InetAddress, String> refused = new LinkedHashMap<>();
        List<InetAddress> usable = new ArrayList<>();
        for (InetAddress a : addresses) {
            String why = allowPrivate ? null : PublicAddress.whyNot(a).orElse(null);
            if (why == null) {
                usable.add(a);
            } else {
                refused.put(a, why);
            }
        }
        if (usable.isEmpty()) {
            StringBuilder b = new StringBuilder("refused: ").append(to.host())
                    .append(" resolves to no global unicast address (");
            refused.forEach((a, why) -> b.append(a.getHostAddress()).append(' ').append(why)
                    .append(", "));
            b.setLength(b.length() - 2);
            return new DeliveryOutcome.Permanent(b.append(')').toString());
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        for (InetAddress a : usable) {
            Socket raw = new Socket();
            try {
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                raw.connect(new InetSocketAddress(a, to.port()),
                        (int) Math.min(left, connectTimeout.toMillis()));
            } catch (IOException e) {
                last = e;
                close(raw);
                continue;
            }
            try (Socket s = raw) {
                return exchange(s, to, gzippedReport, deadline);
            } catch (SocketTimeoutException e) {
                return new DeliveryOutcome.Temporary("no response within "
                        + timeout.toSeconds() + " s");
            } catch (IOException e) {
                return new DeliveryOutcome.Temporary(message(e));
            }
        }
        return new DeliveryOutcome.Temporary("connect to " + to.host() + ":" + to.port()
                + " failed: " + (last == null ? "" : message(last)));
    }

    private DeliveryOutcome exchange(Socket raw, ReportDestination.Https to, byte[] body,
                                     long deadline) throws IOException {
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(raw, to.host(), to.port(),
                true);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS"); // RFC 2818 §3.1: the name in the cert
        if (!isAddressLiteral(to.host())) {
            p.setServerNames(List.of(new SNIHostName(to.host())));
        }
        s.setSSLParameters(p);
        timeLeft(s, deadline);
        s.startHandshake();
        String path = to.endpoint().getRawPath() == null || to.endpoint().getRawPath().isEmpty()
                ? "/" : to.endpoint().getRawPath();
        if (to.endpoint().getRawQuery() != null) {
            path += "?" + to.endpoint().getRawQuery();
        }
        String head = "POST " + path + " HTTP/1.1\r\n"
                + "Host: " + to.endpoint().getRawAuthority() + "\r\n"
                + "Content-Type: application/tlsrpt+gzip\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "User-Agent: tlsrpt-sender\r\n"
                + "Connection: close\r\n\r\n";
        OutputStream out = s.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        int code = status(new BufferedInputStream(s.getInputStream()), s, deadline);
        if (code >= 200 && code < 300) {
            return new DeliveryOutcome.Delivered("HTTP " + code);
        }
        if (code >= 500) {
            return new DeliveryOutcome.Temporary("HTTP " + code);
        }
        return new DeliveryOutcome.Permanent("HTTP " + code
                + (code >= 300 && code < 400 ? " (redirects are not followed)" : ""));
    }

    /** The status code of {@code HTTP/1.x NNN …}; reads nothing past the status line. */
    private static int status(InputStream in, Socket s, long deadline) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            timeLeft(s, deadline);
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed before the status line");
            }
            if (c == '\n') {
                break;
            }
            if (line.size() >= MAX_STATUS_LINE) {
                throw new IOException("status line over " + MAX_STATUS_LINE + " bytes");
            }
            line.write(c);
        }
        String text = line.toString(StandardCharsets.US_ASCII).strip();
        if (!text.startsWith("HTTP/1.") || text.length() < 12 || text.charAt(8) != ' ') {
            throw new IOException("not an HTTP/1.x status line");
        }
        try {
            return Integer.parseInt(text.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP/1.x status line");
        }
    }

    private static void timeLeft(Socket s, long deadline) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new SocketTimeoutException("deadline");
        }
        s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
    }

    /** The host's addresses: itself if it is an address, else its A and AAAA records. */
    private List<InetAddress> addresses(String host) throws IOException {
        if (isAddressLiteral(host)) {
            return List.of(InetAddress.getByName(host)); // a literal: no lookup
        }
        List<InetAddress> out = new ArrayList<>();
        for (int type : new int[] {Type.A, Type.AAAA}) {
            Lookup l;
            try {
                l = new Lookup(Name.fromString(host, Name.root), type);
            } catch (TextParseException e) {
                throw new IOException("not a host name: " + host);
            }
            l.setResolver(dns);
            l.setCache(null);
            Record[] records = l.run();
            int result = l.getResult();
            if (result == Lookup.SUCCESSFUL) {
                for (Record r : records) {
                    if (r instanceof ARecord a) {
                        out.add(a.getAddress());
                    } else if (r instanceof AAAARecord a) {
                        out.add(a.getAddress());
                    }
                }
            } else if (result != Lookup.HOST_NOT_FOUND && result != Lookup.TYPE_NOT_FOUND) {
                throw new IOException(l.getErrorString());
            }
        }
        return out;
    }

    private static boolean isAddressLiteral(String host) {
        return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.'
                || (c >= '0' && c <= '9'));
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        while (t.getCause() != null && (m == null || m.isBlank())) {
            t = t.getCause();
            m = t.getMessage();
        }
        return m == null ? t.getClass().getSimpleName() : m;
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing was sent on it
        }
    }
}
