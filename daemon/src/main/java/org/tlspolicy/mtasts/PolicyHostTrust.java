package org.tlspolicy.mtasts;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Optional;

/**
 * The WebPKI trust that policy hosts are checked against (RFC 8461 §3.3: the policy host's
 * certificate must validate with PKIX for the host name). By default exactly what the JVM
 * trusts (so {@code -Djavax.net.ssl.trustStore} works as everywhere); optionally also the CAs of
 * one PEM file, for private test worlds.
 *
 * <p>Host name verification is not done here: the HTTP client asks for it (endpoint
 * identification "HTTPS") and the JDK's trust manager made here does it, with either TLS
 * provider.
 */
public final class PolicyHostTrust {

    private PolicyHostTrust() {
    }

    /**
     * A client TLS context trusting the JVM's anchors and those in {@code extraCaFile}, if
     * given, on the {@linkplain #provider() fastest provider} available.
     */
    public static SslContext context(Optional<Path> extraCaFile)
            throws IOException, GeneralSecurityException {
        return context(extraCaFile, provider());
    }

    /** As {@link #context(Optional)}, on {@code provider} (tests run both). */
    static SslContext context(Optional<Path> extraCaFile, SslProvider provider)
            throws IOException, GeneralSecurityException {
        X509ExtendedTrustManager tm = trustManager(extraCaFile);
        try {
            return SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .trustManager(tm)
                    // RFC 8461 §3.3 asks for HTTPS, nothing older than TLS 1.2 (RFC 8996).
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
        } catch (SSLException e) {
            throw new GeneralSecurityException("TLS context: " + e.getMessage(), e);
        }
    }

    /**
     * BoringSSL (netty-tcnative) when its library loads on this platform, else the JDK's TLS.
     * Why: a relay fetches a policy now and then, so the JIT never warms the JDK's handshake
     * code (key shares, key schedule, record layer), which BoringSSL runs natively. On the
     * bench's policy host the handshake phase measured 4–13 ms on the JDK and 3.5–8 ms on
     * BoringSSL after 200 fetches, the server's part (about 1.9 ms) and the certificate check
     * (1.2–3.9 ms, the JDK's trust manager with either provider) included; see
     * docs/performance.md, "Cold MTA-STS lookups".
     */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** What {@link #provider()} chose, for the start-up line. */
    public static String describeProvider() {
        return OpenSsl.isAvailable() ? OpenSsl.versionString()
                : "JDK (BoringSSL unavailable: " + OpenSsl.unavailabilityCause() + ")";
    }

    /**
     * PKIX trust in the JVM's anchors and those in {@code extraCaFile}, if given (also what
     * {@code tlspolicyd audit} checks served chains with).
     */
    public static X509ExtendedTrustManager trustManager(Optional<Path> extraCaFile)
            throws IOException, GeneralSecurityException {
        X509ExtendedTrustManager tm = trustManager((KeyStore) null);
        if (extraCaFile.isPresent()) {
            // One PKIX validation over both sets of anchors, not one per set: a chain the
            // first set rejects cost a failed path search and its exception first (the check
            // took 2.7–6.9 ms a handshake tried per set, 1.2–3.9 ms over one, measured on the
            // bench's policy host after 200 fetches).
            KeyStore anchors = keyStore(extraCaFile.get());
            int i = 0;
            for (X509Certificate jvm : tm.getAcceptedIssuers()) {
                anchors.setCertificateEntry("jvm-" + i++, jvm);
            }
            tm = trustManager(anchors);
        }
        return tm;
    }

    /** Reads every certificate of a PEM (or DER) file; fails when there is none. */
    static KeyStore keyStore(Path pem) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(pem)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new CertificateException("no certificate in " + pem);
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate c : certificates) {
            store.setCertificateEntry("extra-" + i++, c);
        }
        return store;
    }

    private static X509ExtendedTrustManager trustManager(KeyStore anchors)
            throws GeneralSecurityException {
        TrustManagerFactory f = TrustManagerFactory.getInstance(
                TrustManagerFactory.getDefaultAlgorithm());
        f.init(anchors); // null: the JVM's default trust store
        for (TrustManager tm : f.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X509ExtendedTrustManager available");
    }
}
