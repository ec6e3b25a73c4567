package org.tlspolicy.dane;

import org.junit.jupiter.api.Test;
import org.tlspolicy.testworld.TestCa;

import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TlsaMatch} against chains a real CA made: each usage, selector and matching type
 * (RFC 6698 §2.1), computed here independently with the JDK's digests.
 */
class TlsaMatchTest {

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static String sha(String alg, byte[] b) throws Exception {
        return hex(MessageDigest.getInstance(alg).digest(b));
    }

    @Test
    void eachSelectorAndMatchingTypeOfDaneEe() throws Exception {
        TestCa ca = TestCa.create("tlsa match CA");
        TestCa.ServerIdentity id = ca.intermediate("tlsa match intermediate").issue(
                "mx.example.test");
        List<X509Certificate> chain = List.of(id.chain());
        X509Certificate leaf = chain.get(0);
        byte[] spki = leaf.getPublicKey().getEncoded();
        byte[] cert = leaf.getEncoded();
        assertTrue(TlsaMatch.matches(new Tlsa(3, 1, 1, sha("SHA-256", spki)), chain));
        assertTrue(TlsaMatch.matches(new Tlsa(3, 1, 2, sha("SHA-512", spki)), chain));
        assertTrue(TlsaMatch.matches(new Tlsa(3, 0, 1, sha("SHA-256", cert)), chain));
        assertTrue(TlsaMatch.matches(new Tlsa(3, 1, 0, hex(spki)), chain));
        assertTrue(TlsaMatch.matches(new Tlsa(3, 0, 0, hex(cert)), chain));
        // Another key, or the right digest under the wrong selector, does not match.
        assertFalse(TlsaMatch.matches(new Tlsa(3, 1, 1, sha("SHA-256", cert)), chain));
        assertFalse(TlsaMatch.matches(new Tlsa(3, 1, 1, TestCa.selfSigned("mx.example.test")
                .spkiSha256()), chain));
        assertEquals(TlsaMatch.daneEe(leaf), new Tlsa(3, 1, 1, id.spkiSha256()));
    }

    @Test
    void daneTaMatchesACaCertificateSentNotTheLeaf() throws Exception {
        TestCa ca = TestCa.create("tlsa ta CA");
        TestCa intermediate = ca.intermediate("tlsa ta intermediate");
        TestCa.ServerIdentity id = intermediate.issue("mx.example.test");
        List<X509Certificate> chain = List.of(id.chain());
        String ta = sha("SHA-256", chain.get(1).getPublicKey().getEncoded());
        assertTrue(TlsaMatch.matches(new Tlsa(2, 1, 1, ta), chain));
        assertFalse(TlsaMatch.matches(new Tlsa(2, 1, 1, id.spkiSha256()), chain));
        // The intermediate as DANE-TA needs it sent: a leaf-only chain does not match.
        assertFalse(TlsaMatch.matches(new Tlsa(2, 1, 1, ta), List.of(id.leafOnly().chain())));
        // PKIX usages never match for SMTP (RFC 7672 §3.1.3).
        assertFalse(TlsaMatch.matches(new Tlsa(1, 1, 1, id.spkiSha256()), chain));
    }
}
