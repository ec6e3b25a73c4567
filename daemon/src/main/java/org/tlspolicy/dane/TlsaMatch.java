package org.tlspolicy.dane;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Whether a TLSA record matches a chain a server presented (RFC 6698 §2.1, RFC 7671 §5, RFC
 * 7672 §3.1): DANE-EE (3) the leaf, DANE-TA (2) a CA certificate the server sent; selector 0
 * the whole certificate, 1 its SubjectPublicKeyInfo; matching type 0 the data itself, 1 its
 * SHA-256, 2 its SHA-512. What {@code tlspolicyd audit} shows per record, so that a record left
 * over after a key roll is told from the one that matches.
 */
public final class TlsaMatch {

    private TlsaMatch() {
    }

    /** Whether {@code record} matches {@code chain} (leaf first, as sent). */
    public static boolean matches(Tlsa record, List<X509Certificate> chain) {
        if (!record.usable() || chain.isEmpty()) {
            return false;
        }
        List<X509Certificate> candidates = record.usage() == 3 ? chain.subList(0, 1)
                : chain.subList(Math.min(1, chain.size()), chain.size());
        for (X509Certificate c : candidates) {
            if (data(record, c).equals(record.data().toUpperCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    /** The association data {@code record}'s selector and matching type make of {@code c}. */
    static String data(Tlsa record, X509Certificate c) {
        try {
            byte[] selected = record.selector() == 0 ? c.getEncoded()
                    : c.getPublicKey().getEncoded();
            byte[] matched = switch (record.matchingType()) {
                case 1 -> MessageDigest.getInstance("SHA-256").digest(selected);
                case 2 -> MessageDigest.getInstance("SHA-512").digest(selected);
                default -> selected;
            };
            return HexFormat.of().withUpperCase().formatHex(matched);
        } catch (CertificateEncodingException | NoSuchAlgorithmException e) {
            return "";
        }
    }

    /** The {@code 3 1 1 HEX} record that would match {@code leaf} (for {@code publish}). */
    public static Tlsa daneEe(X509Certificate leaf) {
        Tlsa probe = new Tlsa(3, 1, 1, "00");
        return new Tlsa(3, 1, 1, data(probe, leaf));
    }
}
