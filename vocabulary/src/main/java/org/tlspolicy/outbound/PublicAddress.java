package org.tlspolicy.outbound;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Optional;

/**
 * Whether an address is one a host named by someone else may send us to: global unicast, not
 * this host, not the operator's private networks. A policy host ({@code mta-sts.DOMAIN}) and an
 * {@code https:} rua are named by the domain they belong to, that is by anyone; connecting to
 * whatever their names resolve to would let any domain make the relay open connections (a TLS
 * ClientHello, an HTTP request) to its own loopback services or to the internal network (SSRF).
 *
 * <p>Refused, with the registry that sets each range aside (IANA IPv4 and IPv6 Special-Purpose
 * Address Registries, RFC 6890): IPv4 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10 (RFC 6598 shared),
 * 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.0.0.0/24, 192.0.2.0/24, 192.168.0.0/16,
 * 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/4 and 240.0.0.0/4 (255.255.255.255
 * among them); IPv6 outside 2000::/3 (unspecified, loopback, link-local fe80::/10, unique local
 * fc00::/7, multicast ff00::/8, discard 100::/64), 2001:db8::/32 and 2001::/23 (documentation,
 * IETF protocol assignments); and IPv4 addresses embedded in IPv6 (IPv4-mapped ::ffff:0:0/96,
 * IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16) by the rules of the IPv4 address
 * they carry.
 */
public final class PublicAddress {

    private PublicAddress() {
    }

    /** Why {@code a} is not a global unicast address, or empty when it is one. */
    public static Optional<String> whyNot(InetAddress a) {
        if (a instanceof Inet4Address v4) {
            return ipv4(v4.getAddress());
        }
        byte[] b = ((Inet6Address) a).getAddress();
        if (isZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
            return ipv4(slice(b, 12)).map(w -> w + " (IPv4-mapped)");
        }
        if (isZero(b, 0, 12)) {
            if (isZero(b, 12, 16)) {
                return Optional.of("unspecified");
            }
            if (isZero(b, 12, 15) && b[15] == 1) {
                return Optional.of("loopback");
            }
            return ipv4(slice(b, 12)).map(w -> w + " (IPv4-compatible)")
                    .or(() -> Optional.of("IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)"));
        }
        int first = b[0] & 0xff;
        if (first == 0x00 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b
                && isZero(b, 4, 12)) {
            return ipv4(slice(b, 12)).map(w -> w + " (NAT64)");
        }
        if (first == 0x20 && b[1] == 0x02) {
            return ipv4(slice(b, 2)).map(w -> w + " (6to4)");
        }
        if (first == 0xff) {
            return Optional.of("multicast");
        }
        if (first == 0xfe && (b[1] & 0xc0) == 0x80) {
            return Optional.of("link-local");
        }
        if ((first & 0xfe) == 0xfc) {
            return Optional.of("unique local (RFC 4193)");
        }
        if ((first & 0xe0) != 0x20) {
            return Optional.of("not global unicast (outside 2000::/3)");
        }
        if (first == 0x20 && b[1] == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8) {
            return Optional.of("documentation (RFC 3849)");
        }
        if (first == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0x00) {
            return Optional.of("IETF protocol assignments (2001::/23)");
        }
        return Optional.empty();
    }

    /** Whether {@code a} is a global unicast address. */
    public static boolean is(InetAddress a) {
        return whyNot(a).isEmpty();
    }

    private static Optional<String> ipv4(byte[] b) {
        int o0 = b[0] & 0xff;
        int o1 = b[1] & 0xff;
        int o2 = b[2] & 0xff;
        String why = null;
        if (o0 == 0) {
            why = "\"this network\" (0.0.0.0/8)";
        } else if (o0 == 10 || (o0 == 172 && (o1 & 0xf0) == 16) || (o0 == 192 && o1 == 168)) {
            why = "private (RFC 1918)";
        } else if (o0 == 100 && (o1 & 0xc0) == 64) {
            why = "shared address space (RFC 6598, CGNAT)";
        } else if (o0 == 127) {
            why = "loopback";
        } else if (o0 == 169 && o1 == 254) {
            why = "link-local";
        } else if (o0 == 192 && o1 == 0 && o2 == 0) {
            why = "IETF protocol assignments (192.0.0.0/24)";
        } else if ((o0 == 192 && o1 == 0 && o2 == 2) || (o0 == 198 && o1 == 51 && o2 == 100)
                || (o0 == 203 && o1 == 0 && o2 == 113)) {
            why = "documentation (RFC 5737)";
        } else if (o0 == 198 && (o1 & 0xfe) == 18) {
            why = "benchmarking (RFC 2544)";
        } else if (o0 >= 224 && o0 < 240) {
            why = "multicast";
        } else if (o0 >= 240) {
            why = "reserved (240.0.0.0/4)";
        }
        return Optional.ofNullable(why);
    }

    private static boolean isZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] slice(byte[] b, int from) {
        return new byte[] {b[from], b[from + 1], b[from + 2], b[from + 3]};
    }
}
