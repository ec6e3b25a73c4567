package org.tlspolicy.nexthop;

import java.net.IDN;
import java.util.Locale;

/**
 * A Postfix next-hop lookup key, classified.
 *
 * <p>Postfix queries {@code smtp_tls_policy_maps} with the next-hop destination verbatim
 * (TLS_README, "TLS policy table"): a recipient domain, a parent-domain form {@code .example.com},
 * an explicit relay {@code [host]} or {@code [host]:port}, a {@code host:port}, or an address
 * literal; it does not lowercase keys. Only a plain domain can carry an MTA-STS (RFC 8461 §4) or
 * DANE-by-MX (RFC 7672 §2.2.1) policy; every other form is answered NOTFOUND without network work,
 * which leaves Postfix at its default security level for it.
 *
 * <p>Domains are normalised so that one policy domain has one cache key: lowercase, no trailing
 * dot, U-labels converted to A-labels (IDNA, via {@link IDN}), and checked against the
 * host-name rules (RFC 1035 §2.3.4 lengths, RFC 952/1123 letters-digits-hyphen labels).
 */
public sealed interface NextHop {

    /** A domain eligible for MTA-STS and DANE lookups: lowercase A-labels, no trailing dot. */
    record Domain(String name) implements NextHop {
    }

    /** A key that is answered NOTFOUND without any lookup, and why. */
    record NoLookup(String reason) implements NextHop {
    }

    /** RFC 1035 §2.3.4: 255 octets on the wire, so 253 characters in text without the dot. */
    int MAX_NAME_LENGTH = org.tlspolicy.smtp.Domain.MAX_LENGTH;

    /** Classifies and normalises one lookup key. */
    static NextHop parse(String key) {
        if (key.isEmpty()) {
            return new NoLookup("empty key");
        }
        if (key.length() > 4 * MAX_NAME_LENGTH) {
            return new NoLookup("key too long to be a domain");
        }
        char first = key.charAt(0);
        if (first == '[') {
            return new NoLookup("explicit relay: no MX lookup, no domain policy applies");
        }
        if (first == '.') {
            return new NoLookup("parent-domain form: policies are looked up by exact domain");
        }
        if (key.indexOf(':') >= 0) {
            return key.indexOf(':') != key.lastIndexOf(':') || key.regionMatches(true, 0, "ipv6:", 0, 5)
                    ? new NoLookup("address literal")
                    : new NoLookup("non-default port: MTA-STS and DANE apply to port 25");
        }
        String name = key.endsWith(".") ? key.substring(0, key.length() - 1) : key;
        if (isDigitsAndDots(name)) {
            // RFC 3696 §2: no top-level domain is all-numeric, so this is an IPv4 address.
            return new NoLookup("address literal");
        }
        if (isAscii(name)) {
            // IDNA leaves ASCII labels as they are, and checkHostName applies the STD3 rules
            // that IDN.toASCII would: the common case skips the conversion (a tenth of the
            // cost of a cached lookup in bench/run-cached).
            return checkHostName(name.toLowerCase(Locale.ROOT));
        }
        String ascii;
        try {
            ascii = IDN.toASCII(name, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return new NoLookup("not a valid domain name: " + e.getMessage());
        }
        return checkHostName(ascii);
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigitsAndDots(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < '0' || c > '9') && c != '.') {
                return false;
            }
        }
        return true;
    }

    private static NextHop checkHostName(String name) {
        String why = org.tlspolicy.smtp.Domain.problem(name);
        if (why == null) {
            return new Domain(name);
        }
        if (why.equals(org.tlspolicy.smtp.Domain.NUMERIC_TOP_LABEL)) {
            // RFC 3696 §2: no top-level domain is all-numeric, so this is an IPv4 address.
            return new NoLookup("address literal");
        }
        if (why.equals(org.tlspolicy.smtp.Domain.SINGLE_LABEL)) {
            return new NoLookup("single-label name: no policy can be published for it");
        }
        return new NoLookup("not a valid domain name: " + why);
    }
}
