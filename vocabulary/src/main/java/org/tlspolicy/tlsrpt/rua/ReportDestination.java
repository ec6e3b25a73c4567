package org.tlspolicy.tlsrpt.rua;

import org.tlspolicy.smtp.Domain;
import org.tlspolicy.smtp.Mailbox;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Where a domain wants its TLS reports (RFC 8460 §3, {@code rua}): a mailbox ({@code mailto:},
 * RFC 8460 §5.3) or an HTTPS endpoint (§5.4). Made only from text that passed {@link #parse},
 * which every destination goes through, also when read back from a store: a destination is
 * written by the domain's owner, that is by anyone, and ends up in an SMTP command, a mail
 * header or a connection.
 */
public sealed interface ReportDestination {

    /** The destination as stored and logged: {@code mailto:MAILBOX} or the https URI. */
    String uri();

    /** Report mail to {@code to}. */
    record Mail(Mailbox to) implements ReportDestination {
        @Override
        public String uri() {
            return "mailto:" + to;
        }
    }

    /**
     * A POST to {@code endpoint}: https, a host (a host name, or an address literal: whether it
     * may be connected to is decided when it is resolved), no user information.
     *
     * @param host the endpoint's host: a lowercase host name, or an address without brackets
     */
    record Https(URI endpoint, String host) implements ReportDestination {
        @Override
        public String uri() {
            return endpoint.toString();
        }

        /** The port: the URI's, or 443. */
        public int port() {
            return endpoint.getPort() < 0 ? 443 : endpoint.getPort();
        }
    }

    /**
     * The destination {@code text} names.
     *
     * @throws IllegalArgumentException naming why {@code text} is no usable destination
     */
    static ReportDestination parse(String text) {
        URI u;
        try {
            u = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: " + e.getReason());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("mailto")) {
            // RFC 6068 §2: mailto:addr-spec, percent-encoded; "?" starts header fields, which a
            // report destination has no use for, and "," would name several addresses.
            String raw = u.getRawSchemeSpecificPart();
            if (raw == null || raw.isEmpty()) {
                throw new IllegalArgumentException("mailto: without an address");
            }
            if (raw.indexOf('?') >= 0) {
                throw new IllegalArgumentException("mailto: with header fields ('?')");
            }
            if (raw.indexOf(',') >= 0) {
                throw new IllegalArgumentException("mailto: with several addresses");
            }
            // Percent-decoded: what would reach RCPT TO and the To: header.
            return new Mail(Mailbox.parse(u.getSchemeSpecificPart()));
        }
        if (scheme.equals("https")) {
            if (u.isOpaque() || u.getRawAuthority() == null) {
                throw new IllegalArgumentException("https: without a host");
            }
            if (u.getRawUserInfo() != null) {
                throw new IllegalArgumentException("https: with user information");
            }
            String host = u.getHost();
            if (host == null) {
                throw new IllegalArgumentException("https: with an unusable authority '"
                        + u.getRawAuthority() + "'");
            }
            if (!host.startsWith("[") && !host.chars().allMatch(c -> c == '.'
                    || (c >= '0' && c <= '9'))) {
                host = Domain.parse(host).name();
            } else if (host.startsWith("[")) {
                host = host.substring(1, host.length() - 1);
            }
            if (u.getRawFragment() != null) {
                throw new IllegalArgumentException("https: with a fragment");
            }
            return new Https(u, host);
        }
        throw new IllegalArgumentException("scheme '" + scheme + "' is neither mailto nor "
                + "https (RFC 8460 §3)");
    }
}
