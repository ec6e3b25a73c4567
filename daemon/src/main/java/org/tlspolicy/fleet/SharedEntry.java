package org.tlspolicy.fleet;

import org.tlspolicy.cache.SharedTier;
import org.tlspolicy.cache.StoredDane;
import org.tlspolicy.cache.StoredPolicy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The form of an entry in the shared store, and its parser: what a relay reads there is
 * network input written by anyone the server lets write, so it is parsed strictly, its MAC
 * checked before anything else is believed, and anything odd becomes {@link Read.Rejected},
 * never an exception.
 *
 * <p>A value is {@code v1 KIND VALID_UNTIL PAYLOAD MAC}: the kind ({@code sts} or {@code
 * dane}), epoch milliseconds, and the payload and its HMAC-SHA256 in base64url. The MAC covers
 * the kind, the domain (the key the value is stored under, which is not in the value: an entry
 * moved to another domain's key fails), the validity and the payload, so none of them can be
 * changed, and an entry of one kind cannot pose as the other.
 *
 * <p>Payloads: an MTA-STS policy is {@code policy FETCHED_AT TXT_ID} and a newline before the
 * policy body as served; "no MTA-STS" is {@code none REASON}; a DANE result is the text form of
 * {@code DaneLookupCodec}.
 */
public final class SharedEntry {

    private SharedEntry() {
    }

    /** Larger values are refused before parsing (a policy body is at most 64 KiB). */
    static final int MAX_VALUE_CHARS = 96 * 1024;

    private static final Pattern VALUE = Pattern.compile(
            "v1 (sts|dane) (\\d{1,15}) ([A-Za-z0-9_-]*) ([A-Za-z0-9_-]{43})");
    private static final Pattern POLICY = Pattern.compile(
            "policy (\\d{1,15}) ([A-Za-z0-9]{1,32})\n", Pattern.DOTALL);
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    /** What a value read from the shared store turned out to be. */
    public sealed interface Read<T> {
        /** Authentic and still valid. */
        record Found<T>(T value) implements Read<T> {
        }

        /** Authentic, but past its validity: as good as absent. */
        record Expired<T>() implements Read<T> {
        }

        /** Malformed, or its MAC does not match: ignored, counted, and never believed. */
        record Rejected<T>(String reason) implements Read<T> {
        }
    }

    /** The value of {@code domain}'s MTA-STS entry. */
    public static String sts(FleetKey key, String domain, SharedTier.StsEntry entry) {
        String payload = entry instanceof SharedTier.PolicyEntry p
                ? "policy " + p.policy().fetchedAt() + " " + p.policy().id() + "\n"
                        + p.policy().body()
                : "none " + ((SharedTier.NoPolicyEntry) entry).reason();
        return value(key, "sts", domain, entry.validUntil(), payload);
    }

    /** The value of a DANE result's entry. */
    public static String dane(FleetKey key, StoredDane d) {
        return value(key, "dane", d.domain(), d.validUntil(), d.result());
    }

    /**
     * {@code value}, read from {@code domain}'s MTA-STS key at {@code now}. A policy read back
     * has {@code refreshAt} and {@code lastUsed} 0: those are each relay's own.
     */
    public static Read<SharedTier.StsEntry> readSts(FleetKey key, String domain, String value,
                                                    long now) {
        Read<String> r = read(key, "sts", domain, value, now);
        if (!(r instanceof Read.Found<String> found)) {
            return retype(r);
        }
        String payload = found.value();
        long validUntil = validUntil(value);
        if (payload.startsWith("none ")) {
            return new Read.Found<>(new SharedTier.NoPolicyEntry(payload.substring(5),
                    validUntil));
        }
        Matcher m = POLICY.matcher(payload);
        if (!m.lookingAt()) {
            return new Read.Rejected<>("unknown MTA-STS payload");
        }
        long fetchedAt = Long.parseLong(m.group(1));
        if (fetchedAt > validUntil) {
            return new Read.Rejected<>("fetched after it expires");
        }
        return new Read.Found<>(new SharedTier.PolicyEntry(new StoredPolicy(domain, m.group(2),
                payload.substring(m.end()), fetchedAt, validUntil, 0, 0)));
    }

    /** {@code value}, read from {@code domain}'s DANE key at {@code now}. */
    public static Read<StoredDane> readDane(FleetKey key, String domain, String value,
                                            long now) {
        Read<String> r = read(key, "dane", domain, value, now);
        if (r instanceof Read.Found<String> found) {
            return new Read.Found<>(new StoredDane(domain, found.value(), validUntil(value)));
        }
        return retype(r);
    }

    /** A value as written, for any payload (the fuzz target signs what it fuzzes). */
    static String value(FleetKey key, String kind, String domain, long validUntil,
                                String payload) {
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        return "v1 " + kind + " " + validUntil + " " + B64.encodeToString(p) + " "
                + B64.encodeToString(key.mac(signed(kind, domain, validUntil, p)));
    }

    /** What the MAC covers: everything but the MAC, and the domain the entry is for. */
    private static byte[] signed(String kind, String domain, long validUntil, byte[] payload) {
        byte[] head = ("tlspolicy fleet v1\n" + kind + "\n" + domain + "\n" + validUntil + "\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + payload.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(payload, 0, all, head.length, payload.length);
        return all;
    }

    private static Read<String> read(FleetKey key, String kind, String domain, String value,
                                     long now) {
        if (value.length() > MAX_VALUE_CHARS) {
            return new Read.Rejected<>("value of " + value.length() + " characters");
        }
        Matcher m = VALUE.matcher(value);
        if (!m.matches()) {
            return new Read.Rejected<>("malformed value");
        }
        if (!m.group(1).equals(kind)) {
            return new Read.Rejected<>("a " + m.group(1) + " entry under a " + kind + " key");
        }
        long validUntil = Long.parseLong(m.group(2));
        byte[] payload;
        byte[] mac;
        try {
            payload = B64D.decode(m.group(3));
            mac = B64D.decode(m.group(4));
        } catch (IllegalArgumentException e) {
            return new Read.Rejected<>("malformed base64");
        }
        if (!key.verify(signed(kind, domain, validUntil, payload), mac)) {
            return new Read.Rejected<>("MAC mismatch (tampered with, or another fleet key)");
        }
        if (validUntil <= now) {
            return new Read.Expired<>();
        }
        // Authentic, so written by a relay of this fleet: its payload is well-formed UTF-8.
        return new Read.Found<>(new String(payload, StandardCharsets.UTF_8));
    }

    private static long validUntil(String value) {
        int from = value.indexOf(' ', 3) + 1;
        return Long.parseLong(value.substring(from, value.indexOf(' ', from)));
    }

    @SuppressWarnings("unchecked")
    private static <T> Read<T> retype(Read<String> r) {
        return (Read<T>) (Read<?>) r; // Expired and Rejected carry no value
    }
}
