package org.tlspolicy.tlsrpt.postfixlog;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Next hops whose sessions are not sessions with the recipient domain's MX hosts, so do not
 * belong in its report (RFC 8460 §4: a report describes sessions with the policy domain's MX
 * hosts): any next hop on a port other than 25, where the MX hosts of every domain listen
 * (RFC 5321 §4.5.4.2 via Postfix's {@code smtp_tcp_port}) and no content filter does (amavis on
 * 127.0.0.1:10024, a submission relay on 587), and the relay hosts Postfix hands mail to
 * instead of the MX (main.cf {@code relayhost}, a transport map's {@code smtp:[host]}), given
 * by name or address as they appear in {@code relay=}.
 */
public final class NextHops {

    /** The port MX hosts listen on (Postfix's smtp_tcp_port). */
    static final int MX_PORT = 25;

    /** Only next hops on other ports are excluded: Postfix delivers to the MX hosts itself. */
    public static final NextHops MX_PORT_ONLY = new NextHops(List.of());

    private final Set<String> relays;

    /**
     * @param relays relay hosts as Postfix names them: {@code host}, {@code [host]},
     *               {@code [host]:port}, {@code [address]}
     */
    public NextHops(List<String> relays) {
        this.relays = relays.stream().map(NextHops::hostOf).filter(h -> !h.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
    }

    /** The host of a relayhost setting: brackets and port removed, lower case. */
    static String hostOf(String relay) {
        String r = relay.trim().toLowerCase(Locale.ROOT);
        if (r.startsWith("[")) {
            int close = r.indexOf(']');
            return close < 0 ? "" : r.substring(1, close);
        }
        int colon = r.indexOf(':');
        return colon < 0 || r.indexOf(':', colon + 1) >= 0 ? r : r.substring(0, colon);
    }

    /** Whether a session with {@code e} is not one with the recipient domain's MX. */
    public boolean excluded(Endpoint e) {
        if (e.port() > 0 && e.port() != MX_PORT) {
            return true;
        }
        return relays.contains(e.host().toLowerCase(Locale.ROOT))
                || relays.contains(e.ip().toLowerCase(Locale.ROOT));
    }
}
