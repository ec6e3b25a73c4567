package org.tlspolicy.dkim;

import org.tlspolicy.smtp.Domain;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * DKIM verification (RFC 6376 §6) of report mail, so that the summary can say which reports
 * their sender's domain vouched for (RFC 8460 §5.3 asks reporters to sign). rsa-sha256 and
 * ed25519-sha256 (RFC 8463), simple and relaxed canonicalization; the first signature that
 * verifies counts. Reports are not refused for lacking one.
 */
public final class DkimVerifier {

    /** What verifying a mail came to. */
    public sealed interface Result {
        /** The word stored: pass, fail or none. */
        String word();

        /** The signing domain ({@code d=}), or "". */
        String domain();

        record Pass(String domain, String selector) implements Result {
            @Override
            public String word() {
                return "pass";
            }
        }

        record Fail(String domain, String reason) implements Result {
            @Override
            public String word() {
                return "fail";
            }
        }

        record None() implements Result {
            @Override
            public String word() {
                return "none";
            }

            @Override
            public String domain() {
                return "";
            }
        }
    }

    private static final Pattern B_VALUE = Pattern.compile("(;|^)([ \\t\\r\\n]*b[ \\t\\r\\n]*=)"
            + "[^;]*");
    private static final byte[] ED25519_SPKI_PREFIX = HexFormat.of()
            .parseHex("302a300506032b6570032100");

    private final BiFunction<String, String, Optional<String>> keys;

    /**
     * @param keys the DKIM key record ({@code v=DKIM1; k=…; p=…}) of a selector and domain,
     *             from DNS; empty when there is none
     */
    public DkimVerifier(BiFunction<String, String, Optional<String>> keys) {
        this.keys = keys;
    }

    /** Verifies {@code raw} (the mail as received). */
    public Result verify(byte[] raw) {
        DkimCanonical.Parts parts = DkimCanonical.split(new String(raw,
                StandardCharsets.ISO_8859_1));
        List<DkimCanonical.Field> header = parts.header();
        Result first = new Result.None();
        for (DkimCanonical.Field f : header) {
            if (!f.name().equalsIgnoreCase("DKIM-Signature")) {
                continue;
            }
            Result r = verifyOne(f, header, parts.body());
            if (r instanceof Result.Pass) {
                return r;
            }
            if (first instanceof Result.None) {
                first = r;
            }
        }
        return first;
    }

    private Result verifyOne(DkimCanonical.Field sig, List<DkimCanonical.Field> header,
                             String body) {
        Map<String, String> tags = tags(sig.value());
        String d = tags.getOrDefault("d", "").toLowerCase(Locale.ROOT);
        try {
            String a = tags.get("a");
            String s = tags.get("s");
            String h = tags.get("h");
            String b = tags.get("b");
            String bh = tags.get("bh");
            if (!"1".equals(tags.get("v")) || a == null || s == null || h == null || b == null
                    || bh == null || d.isEmpty()) {
                return new Result.Fail(d, "signature lacks a required tag");
            }
            // RFC 6376 §3.5: d= is a domain name and s= sub-domains of letters, digits and
            // hyphens; both name the DNS record of the key, so anything else is refused
            // before any query is made.
            if (Domain.problem(d) != null
                    || Domain.problem((s + "." + d).toLowerCase(Locale.ROOT)) != null) {
                return new Result.Fail("", "d= or s= is not a domain name");
            }
            String[] c = tags.getOrDefault("c", "simple/simple").toLowerCase(Locale.ROOT)
                    .split("/", 2);
            boolean relaxedHeader = c[0].equals("relaxed");
            boolean relaxedBody = c.length > 1 && c[1].equals("relaxed");
            String canonBody = relaxedBody ? DkimCanonical.relaxedBody(body)
                    : DkimCanonical.simpleBody(body);
            if (tags.containsKey("l")) {
                int l = Integer.parseInt(tags.get("l"));
                canonBody = canonBody.substring(0, Math.min(l, canonBody.length()));
            }
            byte[] bodyHash = MessageDigest.getInstance("SHA-256").digest(canonBody.getBytes(
                    StandardCharsets.ISO_8859_1));
            if (!MessageDigest.isEqual(bodyHash, Base64.getDecoder().decode(strip(bh)))) {
                return new Result.Fail(d, "body hash does not match (the body was changed)");
            }
            StringBuilder data = new StringBuilder();
            List<DkimCanonical.Field> unused = new ArrayList<>(header);
            for (String name : h.split(":")) {
                String n = name.strip();
                for (int i = unused.size() - 1; i >= 0; i--) {
                    DkimCanonical.Field f = unused.get(i);
                    if (f.name().strip().equalsIgnoreCase(n)) {
                        data.append(relaxedHeader ? DkimCanonical.relaxedHeader(f.name(),
                                f.value()) : DkimCanonical.simpleHeader(f.name(), f.value()))
                                .append("\r\n");
                        unused.remove(i);
                        break;
                    }
                }
            }
            String emptied = B_VALUE.matcher(sig.value()).replaceFirst("$1$2");
            data.append(relaxedHeader ? DkimCanonical.relaxedHeader(sig.name(), emptied)
                    : DkimCanonical.simpleHeader(sig.name(), emptied));
            Optional<String> record = keys.apply(s, d);
            if (record.isEmpty()) {
                return new Result.Fail(d, "no key at " + s + "._domainkey." + d);
            }
            Map<String, String> key = tags(record.get());
            String p = strip(key.getOrDefault("p", ""));
            if (p.isEmpty()) {
                return new Result.Fail(d, "key revoked");
            }
            byte[] signed = data.toString().getBytes(StandardCharsets.ISO_8859_1);
            byte[] signature = Base64.getDecoder().decode(strip(b));
            boolean ok;
            if (a.equalsIgnoreCase("rsa-sha256")) {
                Signature v = Signature.getInstance("SHA256withRSA");
                v.initVerify(publicKey("RSA", Base64.getDecoder().decode(p)));
                v.update(signed);
                ok = v.verify(signature);
            } else if (a.equalsIgnoreCase("ed25519-sha256")) {
                byte[] raw = Base64.getDecoder().decode(p);
                byte[] spki = new byte[ED25519_SPKI_PREFIX.length + raw.length];
                System.arraycopy(ED25519_SPKI_PREFIX, 0, spki, 0, ED25519_SPKI_PREFIX.length);
                System.arraycopy(raw, 0, spki, ED25519_SPKI_PREFIX.length, raw.length);
                Signature v = Signature.getInstance("Ed25519");
                v.initVerify(publicKey("Ed25519", spki));
                v.update(MessageDigest.getInstance("SHA-256").digest(signed));
                ok = v.verify(signature);
            } else {
                return new Result.Fail(d, "algorithm " + a + " not supported");
            }
            return ok ? new Result.Pass(d, s) : new Result.Fail(d, "signature does not verify");
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return new Result.Fail(d, "unusable signature or key: " + e.getMessage());
        }
    }

    private static PublicKey publicKey(String algorithm, byte[] spki)
            throws GeneralSecurityException {
        return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(spki));
    }

    /** RFC 6376 §3.2 tag=value list. */
    static Map<String, String> tags(String list) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : list.split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.putIfAbsent(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
            }
        }
        return out;
    }

    /** {@code s} without spaces, tabs, CR and LF (folding whitespace in tag values). */
    private static String strip(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                b.append(c);
            }
        }
        return b.toString();
    }
}
