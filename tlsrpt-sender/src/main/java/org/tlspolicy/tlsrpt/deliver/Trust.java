package org.tlspolicy.tlsrpt.deliver;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;

/** The TLS trust of https destinations: the JVM's CAs, and those of a PEM file if given. */
public final class Trust {

    private Trust() {
    }

    public static SSLContext context(Path extraCaFile) throws Exception {
        if (extraCaFile == null) {
            return SSLContext.getDefault();
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        Path cacerts = Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");
        if (Files.isReadable(cacerts)) {
            try (InputStream in = Files.newInputStream(cacerts)) {
                store.load(in, null);
            }
        } else {
            store.load(null, null);
        }
        int i = 0;
        try (InputStream in = Files.newInputStream(extraCaFile)) {
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(in)) {
                store.setCertificateEntry("extra-" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(
                TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
