package org.tlspolicy.fleet;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.tlspolicy.secret.SecretFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Set;

/**
 * The fleet key: the secret every relay of a fleet shares, with which each authenticates what
 * it writes to the shared store (HMAC-SHA256) and checks what it reads. The shared store is a
 * trust boundary: anyone who can write to it could otherwise plant "no MTA-STS" for a domain
 * and downgrade the whole fleet's mail to it.
 *
 * <p>The key file holds at least {@value #MIN_BYTES} bytes (e.g. {@code head -c 32
 * /dev/urandom | base64 > fleet.key}); surrounding white space is not part of the key. A file
 * others may read is refused: it would let them forge entries.
 */
public final class FleetKey {

    /** 256 bits: HMAC-SHA256's full strength. */
    static final int MIN_BYTES = 32;

    private final SecretKeySpec key;

    private FleetKey(byte[] secret) {
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    /** The key in {@code file}; an {@link IOException} says what is wrong with the file. */
    public static FleetKey read(Path file) throws IOException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file,
                LinkOption.NOFOLLOW_LINKS);
        if (mode.contains(PosixFilePermission.OTHERS_READ)) {
            throw new IOException("is readable by others (it would let them forge shared "
                    + "cache entries): chmod 0640 it");
        }
        SecretFile.check(file, "fleet key"); // refuses a key others could change
        String text = Files.readString(file, StandardCharsets.ISO_8859_1).strip();
        byte[] secret = text.getBytes(StandardCharsets.ISO_8859_1);
        if (secret.length < MIN_BYTES) {
            throw new IOException("holds " + secret.length + " bytes; a fleet key needs at least "
                    + MIN_BYTES + " (head -c 32 /dev/urandom | base64)");
        }
        return new FleetKey(secret);
    }

    /** A key from bytes the caller made (tests, and the fuzz target). */
    static FleetKey of(byte[] secret) {
        if (secret.length < MIN_BYTES) {
            throw new IllegalArgumentException("a fleet key needs at least " + MIN_BYTES
                    + " bytes");
        }
        return new FleetKey(secret.clone());
    }

    /** HMAC-SHA256 of {@code message}. */
    byte[] mac(byte[] message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** True if {@code tag} is {@code message}'s MAC; in constant time. */
    boolean verify(byte[] message, byte[] tag) {
        return MessageDigest.isEqual(mac(message), tag);
    }

    @Override
    public String toString() {
        return "FleetKey[secret]"; // never the secret itself, in a log or an exception
    }
}
