package org.tlspolicy.dane;

import org.xbill.DNS.TLSARecord;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * One TLSA record's data (RFC 6698 §2.1): certificate usage, selector, matching type and the
 * certificate association data, kept as upper-case hex as in presentation format.
 */
public record Tlsa(int usage, int selector, int matchingType, String data) {

    /** The longest association data kept: a full certificate (matching type 0) is rarely more. */
    public static final int MAX_DATA_BYTES = 16 * 1024;

    public Tlsa {
        if (usage < 0 || usage > 255 || selector < 0 || selector > 255 || matchingType < 0
                || matchingType > 255) {
            throw new IllegalArgumentException("TLSA fields are 8-bit numbers");
        }
        if (data.isEmpty() || data.length() % 2 != 0 || data.length() > 2 * MAX_DATA_BYTES
                || !data.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("TLSA data must be 1 to " + MAX_DATA_BYTES
                    + " bytes of hex");
        }
        data = data.toUpperCase(Locale.ROOT);
    }

    /** The record as dnsjava decoded it from the wire. */
    public static Tlsa of(TLSARecord r) {
        return new Tlsa(r.getCertificateUsage(), r.getSelector(), r.getMatchingType(),
                HexFormat.of().formatHex(r.getCertificateAssociationData()));
    }

    /**
     * Whether an SMTP client can authenticate with it (RFC 7672 §3.1): usage DANE-TA(2) or
     * DANE-EE(3), never PKIX-TA(0)/PKIX-EE(1) (RFC 7672 §3.1.3); a selector and matching type
     * RFC 6698 defines; for a digest, data of the digest's length (RFC 7671 §4: records that
     * cannot match are unusable).
     */
    public boolean usable() {
        if (usage != 2 && usage != 3) {
            return false;
        }
        if (selector != 0 && selector != 1) {
            return false;
        }
        int bytes = data.length() / 2;
        return switch (matchingType) {
            case 0 -> true;
            case 1 -> bytes == 32; // SHA2-256
            case 2 -> bytes == 64; // SHA2-512
            default -> false;
        };
    }

    /** Presentation format without owner and class: {@code 3 1 1 0123AB…}. */
    @Override
    public String toString() {
        return usage + " " + selector + " " + matchingType + " " + data;
    }

    /** The inverse of {@link #toString}; empty for anything else. */
    public static Optional<Tlsa> parse(String text) {
        String[] f = text.split(" ", -1);
        if (f.length != 4) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Tlsa(field(f[0]), field(f[1]), field(f[2]), f[3]));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static int field(String s) {
        if (s.isEmpty() || s.length() > 3 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("not an 8-bit number: " + s);
        }
        return Integer.parseInt(s);
    }
}
