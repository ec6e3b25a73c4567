package org.tlspolicy.testworld;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A certificate authority for test worlds, made with Bouncy Castle: a root, and server
 * certificates it issues (valid, expired, for the wrong name) or that sign themselves.
 */
public final class TestCa {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    private final KeyPair key;
    private final X509Certificate certificate;
    /** This CA's certificate and those above it, up to the root: what a server sends after its leaf. */
    private final X509Certificate[] above;

    private TestCa(KeyPair key, X509Certificate certificate, X509Certificate[] above) {
        this.key = key;
        this.certificate = certificate;
        this.above = above;
    }

    /** A new root CA named {@code name}. */
    public static TestCa create(String name) throws Exception {
        KeyPair key = newKey();
        X509v3CertificateBuilder b = selfIssued(name, key)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate root = sign(b, key.getPrivate());
        return new TestCa(key, root, new X509Certificate[] {root});
    }

    /**
     * An intermediate CA named {@code name} under this one: what public CAs issue server
     * certificates from. Its chains are leaf, intermediate, root; a server that sends only
     * the leaf ({@link ServerIdentity#leafOnly()}) is missing the intermediate.
     */
    public TestCa intermediate(String name) throws Exception {
        KeyPair k = newKey();
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(365))),
                new X500Name("CN=" + name), k.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                .addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate c = sign(b, key.getPrivate());
        X509Certificate[] chain = new X509Certificate[above.length + 1];
        chain[0] = c;
        System.arraycopy(above, 0, chain, 1, above.length);
        return new TestCa(k, c, chain);
    }

    /** The root certificate. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** Writes the root certificate as PEM to {@code file}. */
    public Path writePem(Path file) throws Exception {
        Files.writeString(file, pem(certificate), StandardCharsets.US_ASCII);
        return file;
    }

    /**
     * A server certificate for {@code dnsName}, valid from yesterday for 90 days (what public
     * CAs issue: far enough from its end that no expiry check warns).
     */
    public ServerIdentity issue(String dnsName) throws Exception {
        Instant now = Instant.now();
        return issue(dnsName, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(90)));
    }

    /** A server certificate for {@code dnsName}, valid between the two instants. */
    public ServerIdentity issue(String dnsName, Instant notBefore, Instant notAfter)
            throws Exception {
        return issue(List.of(dnsName), notBefore, notAfter);
    }

    /** A server certificate for all of {@code dnsNames}, valid from yesterday for 90 days. */
    public ServerIdentity issue(List<String> dnsNames) throws Exception {
        Instant now = Instant.now();
        return issue(dnsNames, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(90)));
    }

    /** A server certificate for all of {@code dnsNames}, valid between the two instants. */
    public ServerIdentity issue(List<String> dnsNames, Instant notBefore, Instant notAfter)
            throws Exception {
        KeyPair leaf = newKey();
        GeneralName[] names = dnsNames.stream()
                .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(),
                Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + dnsNames.get(0)),
                leaf.getPublic())
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        X509Certificate[] chain = new X509Certificate[above.length + 1];
        chain[0] = sign(b, key.getPrivate());
        System.arraycopy(above, 0, chain, 1, above.length);
        return new ServerIdentity(leaf.getPrivate(), chain);
    }

    /**
     * A server context that presents, for whatever name the client asks for (SNI), a
     * certificate for that name from this CA, made when first asked and kept (one key for all):
     * a policy host for as many domains as a test needs, as large hosting providers run them.
     */
    public SSLContext anyNameServerContext() throws Exception {
        KeyPair leaf = newKey();
        java.util.Map<String, X509Certificate[]> chains =
                new java.util.concurrent.ConcurrentHashMap<>();
        javax.net.ssl.X509ExtendedKeyManager km = new javax.net.ssl.X509ExtendedKeyManager() {
            private String requested(javax.net.ssl.SSLSession session) {
                if (session instanceof javax.net.ssl.ExtendedSSLSession e) {
                    for (javax.net.ssl.SNIServerName n : e.getRequestedServerNames()) {
                        if (n instanceof javax.net.ssl.SNIHostName h) {
                            return h.getAsciiName();
                        }
                    }
                }
                return "localhost";
            }

            private String alias(String keyType, javax.net.ssl.SSLSession session) {
                return leaf.getPublic().getAlgorithm().equals(keyType) ? requested(session)
                        : null;
            }

            @Override
            public String chooseEngineServerAlias(String keyType, java.security.Principal[] i,
                                                  javax.net.ssl.SSLEngine engine) {
                return alias(keyType, engine.getHandshakeSession());
            }

            @Override
            public String chooseServerAlias(String keyType, java.security.Principal[] i,
                                            java.net.Socket socket) {
                return alias(keyType,
                        ((javax.net.ssl.SSLSocket) socket).getHandshakeSession());
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return chains.computeIfAbsent(alias, name -> {
                    try {
                        Instant now = Instant.now();
                        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                                certificate, serial(), Date.from(now.minus(Duration.ofDays(1))),
                                Date.from(now.plus(Duration.ofDays(90))),
                                new X500Name("CN=" + name), leaf.getPublic())
                                .addExtension(Extension.subjectAlternativeName, false,
                                        new GeneralNames(new GeneralName(GeneralName.dNSName,
                                                name)));
                        return new X509Certificate[] {sign(b, key.getPrivate()), certificate};
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }).clone();
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return leaf.getPrivate();
            }

            @Override
            public String[] getServerAliases(String keyType, java.security.Principal[] i) {
                return null;
            }

            @Override
            public String[] getClientAliases(String keyType, java.security.Principal[] i) {
                return null;
            }

            @Override
            public String chooseClientAlias(String[] keyType, java.security.Principal[] i,
                                            java.net.Socket socket) {
                return null;
            }
        };
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new javax.net.ssl.KeyManager[] {km}, null, null);
        return context;
    }

    /** A certificate for {@code dnsName} that signs itself: trusted by nobody. */
    public static ServerIdentity selfSigned(String dnsName) throws Exception {
        KeyPair leaf = newKey();
        X509v3CertificateBuilder b = selfIssued(dnsName, leaf)
                .addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
        return new ServerIdentity(leaf.getPrivate(),
                new X509Certificate[] {sign(b, leaf.getPrivate())});
    }

    /** A server's key and chain, ready for an SSLContext. */
    public record ServerIdentity(PrivateKey key, X509Certificate[] chain) {

        /** The same key and certificate, sent without any CA certificate: an incomplete chain. */
        public ServerIdentity leafOnly() {
            return new ServerIdentity(key, new X509Certificate[] {chain[0]});
        }

        public SSLContext serverContext() throws Exception {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = "test".toCharArray();
            store.setKeyEntry("server", key, password, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(
                    KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        }

        /**
         * Writes the private key (PKCS #8) and then the chain as PEM to {@code file}: the form
         * of Postfix's {@code smtpd_tls_chain_files}.
         */
        public Path writePem(Path file) throws Exception {
            StringBuilder b = new StringBuilder("-----BEGIN PRIVATE KEY-----\n")
                    .append(Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(key.getEncoded()))
                    .append("\n-----END PRIVATE KEY-----\n");
            for (X509Certificate c : chain) {
                b.append(pem(c));
            }
            Files.writeString(file, b, StandardCharsets.US_ASCII);
            return file;
        }

        /**
         * The SHA-256 digest of the leaf's SubjectPublicKeyInfo in hex: the data of a TLSA
         * 3 1 1 record for this server (RFC 6698 §2.1).
         */
        public String spkiSha256() throws Exception {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(chain[0].getPublicKey().getEncoded());
            return java.util.HexFormat.of().withUpperCase().formatHex(digest);
        }
    }

    public static String pem(X509Certificate c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(c.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    /** A certificate naming {@code cn} as subject and issuer, valid from yesterday for a year. */
    private static X509v3CertificateBuilder selfIssued(String cn, KeyPair key) {
        X500Name subject = new X500Name("CN=" + cn);
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(subject, serial(),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(365))),
                subject, key.getPublic());
    }

    private static KeyPair newKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer)
            throws Exception {
        ContentSigner s = new JcaContentSignerBuilder("SHA256withECDSA").build(signer);
        return new JcaX509CertificateConverter().getCertificate(b.build(s));
    }
}
