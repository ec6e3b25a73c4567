package org.tlspolicy.mtasts;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The WebPKI trust that policy hosts are checked against (RFC 8461 §3.3: the policy host's
 * certificate must validate with PKIX for the host name). By default exactly what the JVM
 * trusts (so {@code -Djavax.net.ssl.trustStore} works as everywhere); optionally also the CAs of
 * one PEM file, for private test worlds.
 *
 * <p>Host name verification is not done here: the HTTP client asks for it (endpoint
 * identification "HTTPS") and the JDK's trust managers, to which this one only delegates, do it.
 */
public final class PolicyHostTrust {

    private PolicyHostTrust() {
    }

    /** A TLS context trusting the JVM's anchors and those in {@code extraCaFile}, if given. */
    public static SSLContext context(Optional<Path> extraCaFile)
            throws IOException, GeneralSecurityException {
        List<X509ExtendedTrustManager> managers = new ArrayList<>();
        managers.add(trustManager(null));
        if (extraCaFile.isPresent()) {
            managers.add(trustManager(keyStore(extraCaFile.get())));
        }
        SSLContext context = SSLContext.getInstance("TLS");
        TrustManager tm = managers.size() == 1 ? managers.get(0) : new AnyOf(managers);
        context.init(null, new TrustManager[] {tm}, null);
        return context;
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

    /** Trusts a server chain when any delegate does; each delegate also checks the host name. */
    private static final class AnyOf extends X509ExtendedTrustManager {

        private final List<X509ExtendedTrustManager> delegates;

        AnyOf(List<X509ExtendedTrustManager> delegates) {
            this.delegates = List.copyOf(delegates);
        }

        private interface Check {
            void run(X509ExtendedTrustManager tm) throws CertificateException;
        }

        private void any(Check check) throws CertificateException {
            CertificateException first = null;
            for (X509ExtendedTrustManager tm : delegates) {
                try {
                    check.run(tm);
                    return;
                } catch (CertificateException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            throw first;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            any(tm -> tm.checkServerTrusted(chain, authType, engine));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            any(tm -> tm.checkServerTrusted(chain, authType, socket));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            // Without an engine or socket no host name could be checked: never used that way.
            throw new CertificateException("server checks need the connection for the host name");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("client certificates are not accepted");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("client certificates are not accepted");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            throw new CertificateException("client certificates are not accepted");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            List<X509Certificate> all = new ArrayList<>();
            for (X509ExtendedTrustManager tm : delegates) {
                all.addAll(List.of(tm.getAcceptedIssuers()));
            }
            return all.toArray(new X509Certificate[0]);
        }
    }
}
