package org.tlspolicy.tlsrpt.deliver;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.tlspolicy.dkim.DkimCanonical;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * DKIM signatures (RFC 6376) for report mail, relaxed/relaxed, with RSA-SHA256 or Ed25519-SHA256
 * (RFC 8463), as RFC 8460 §5.3 asks of report mail: signed by the submitter's domain.
 */
public final class DkimSigner {

    /** The headers signed, where present (RFC 8460 §5.3's and the usual ones). */
    static final List<String> SIGNED = List.of("From", "To", "Subject", "Date", "Message-ID",
            "MIME-Version", "Content-Type", "TLS-Report-Domain", "TLS-Report-Submitter",
            "TLS-Required");

    private final String domain;
    private final String selector;
    private final PrivateKey key;
    private final String algorithm;

    public DkimSigner(String domain, String selector, PrivateKey key) {
        this.domain = domain;
        this.selector = selector;
        this.key = key;
        this.algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "rsa-sha256";
            case "Ed25519", "EdDSA" -> "ed25519-sha256";
            default -> throw new IllegalArgumentException("DKIM key must be RSA or Ed25519, not "
                    + key.getAlgorithm());
        };
    }

    /** Reads a PEM private key (PKCS #8, or PKCS #1 RSA). */
    public static PrivateKey readKey(Path pem) throws IOException {
        try (Reader r = Files.newBufferedReader(pem, StandardCharsets.US_ASCII);
             PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            JcaPEMKeyConverter c = new JcaPEMKeyConverter();
            if (o instanceof PrivateKeyInfo info) {
                return c.getPrivateKey(info);
            }
            if (o instanceof PEMKeyPair pair) {
                return c.getKeyPair(pair).getPrivate();
            }
            throw new IOException(pem + " holds no private key");
        }
    }

    /** {@code message} (CRLF lines, headers then body) with a DKIM-Signature header first. */
    public byte[] sign(byte[] message, Instant now) throws GeneralSecurityException {
        String text = new String(message, StandardCharsets.ISO_8859_1);
        if (text.indexOf("\r\n\r\n") < 0) {
            throw new IllegalArgumentException("no header/body separator");
        }
        DkimCanonical.Parts parts = DkimCanonical.split(text);
        List<DkimCanonical.Field> headers = parts.header();
        String bh = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
                .digest(DkimCanonical.relaxedBody(parts.body())
                        .getBytes(StandardCharsets.ISO_8859_1)));
        List<String> names = new ArrayList<>();
        StringBuilder signed = new StringBuilder();
        for (String want : SIGNED) {
            // The last instance of a header is signed first (RFC 6376 §5.4.2); ours has one.
            for (int i = headers.size() - 1; i >= 0; i--) {
                if (headers.get(i).name().equalsIgnoreCase(want)) {
                    names.add(want);
                    signed.append(DkimCanonical.relaxedHeader(headers.get(i).name(),
                            headers.get(i).value())).append("\r\n");
                    break;
                }
            }
        }
        String value = "v=1; a=" + algorithm + "; c=relaxed/relaxed; d=" + domain + "; s="
                + selector + "; t=" + now.getEpochSecond() + ";\r\n\th="
                + String.join(":", names).toLowerCase(Locale.ROOT) + ";\r\n\tbh=" + bh
                + ";\r\n\tb=";
        signed.append(DkimCanonical.relaxedHeader("DKIM-Signature", value));
        byte[] data = signed.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] sig;
        if (algorithm.equals("rsa-sha256")) {
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initSign(key);
            s.update(data);
            sig = s.sign();
        } else {
            // RFC 8463 §3: Ed25519 signs the SHA-256 hash of the data.
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(MessageDigest.getInstance("SHA-256").digest(data));
            sig = s.sign();
        }
        String b = Base64.getEncoder().encodeToString(sig);
        StringBuilder folded = new StringBuilder();
        for (int i = 0; i < b.length(); i += 72) {
            folded.append(i == 0 ? "" : "\r\n\t ").append(b, i, Math.min(b.length(), i + 72));
        }
        String header = "DKIM-Signature: " + value + folded + "\r\n";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[h.length + message.length];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(message, 0, out, h.length, message.length);
        return out;
    }
}
