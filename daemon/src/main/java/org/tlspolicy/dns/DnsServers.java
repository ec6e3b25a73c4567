package org.tlspolicy.dns;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The recursive resolvers a DNS client asks, and where the list came from ({@code dns.servers}
 * or {@code /etc/resolv.conf}), so that a failure names the server asked and why it was
 * asked: an operator who has just pointed resolv.conf at a new resolver must see whether the
 * daemon asks that one.
 *
 * @param addresses the servers, in the order they are tried
 * @param origin    {@code dns.servers}, {@code /etc/resolv.conf}, or the fallback's reason
 */
public record DnsServers(List<InetSocketAddress> addresses, String origin) {

    public DnsServers {
        addresses = List.copyOf(addresses);
    }

    /** {@code 127.0.0.1:53 (/etc/resolv.conf)}. */
    @Override
    public String toString() {
        return addresses.stream().map(a -> (a.getAddress().getHostAddress().contains(":")
                ? "[" + a.getAddress().getHostAddress() + "]" : a.getAddress().getHostAddress())
                + ":" + a.getPort()).collect(Collectors.joining(", ")) + " (" + origin + ")";
    }
}
