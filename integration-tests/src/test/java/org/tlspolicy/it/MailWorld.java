package org.tlspolicy.it;

import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;
import org.tlspolicy.testworld.UnboundServer;
import org.tlspolicy.testworld.ZoneSigner;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small internet on loopback for mail: the zone {@code test.} signed with DNSSEC (its key is
 * the world's only trust anchor) served by knotd, Debian's unbound validating in front of it on
 * {@code 127.0.53.53:53} (the resolver of tlspolicyd and of the sending Postfix), MTA-STS policy
 * hosts on port 443 of {@code 127.0.3.N} with certificates from a test CA, and a receiving
 * Postfix whose smtpd listens on port 25 of {@code 127.0.2.N}, one listener per MX host, each
 * with the certificate (or lack of STARTTLS) its scenario needs.
 *
 * <p>Each {@link Domain} becomes {@code NAME.test} with its MX hosts, their TLSA records and
 * its MTA-STS TXT record and policy host; the TLSA records of a domain marked bogus are put
 * in a zone of their own whose signatures have expired (RFC 4035 §5.3.1), so that their
 * answers, and only theirs, are bogus.
 */
final class MailWorld implements AutoCloseable {

    /** Where the validating resolver listens: port 53, as resolv.conf can name no other. */
    static final InetSocketAddress RESOLVER = new InetSocketAddress("127.0.53.53", 53);

    /** What an MX host presents when asked for STARTTLS. */
    enum Cert {
        /** Issued by the test CA for the host's name. */
        VALID,
        /** Issued by the test CA for another name. */
        WRONG_NAME,
        /** Issued by the test CA for the host's name, expired yesterday. */
        EXPIRED,
        /** For the host's name, signed by its own key. */
        SELF_SIGNED,
        /** For the host's name, by a CA the sending Postfix does not trust. */
        UNTRUSTED_CA,
        /** No STARTTLS offered at all: what a downgrade attack leaves. */
        NO_STARTTLS,
        /** From an intermediate CA of the test CA, the server sending only its leaf. */
        LEAF_ONLY,
        /** Issued by the test CA for the host's name, expiring in 10 days. */
        EXPIRING
    }

    /** The TLSA record published for an MX host. */
    enum Tlsa {
        NONE,
        /** 3 1 1 with the digest of the host's own key. */
        MATCHING,
        /** 3 1 1 with the digest of some other key. */
        MISMATCHING,
        /** 1 1 1 (PKIX-EE) with the digest of the host's key: unusable for SMTP (RFC 7672 §3.1.3). */
        UNUSABLE,
        /** A key roll in progress: 3 1 1 of the host's key and 3 1 1 of another. */
        ROLLOVER
    }

    /** How a domain's MTA-STS policy host answers. */
    enum Served {
        /** 200 with the policy. */
        POLICY,
        /** 404: an sts-policy-fetch-error. */
        NOT_FOUND,
        /** 200 with a body that is no policy: an sts-policy-invalid. */
        INVALID,
        /** The policy, but over TLS with a certificate for another name: sts-webpki-invalid. */
        WRONG_CERTIFICATE,
        /** The policy, but over TLS with a certificate that expired yesterday. */
        EXPIRED_CERTIFICATE,
        /** 301 to another URL: not followed (RFC 8461 §3.3), an sts-policy-fetch-error. */
        REDIRECT
    }

    /** An MX host {@code label.DOMAIN} at {@code ip}; the label may have dots. */
    record Mx(String label, String ip, Cert cert, Tlsa tlsa) {
    }

    /**
     * An MTA-STS policy: {@code mode} and {@code mx} patterns, served as {@code served}, with
     * {@code filler} more mx patterns of names nobody uses (a long policy).
     */
    record Sts(String mode, List<String> mx, Served served, int filler, long maxAge) {

        Sts(String mode, List<String> mx) {
            this(mode, mx, Served.POLICY, 0);
        }

        Sts(String mode, List<String> mx, Served served, int filler) {
            this(mode, mx, served, filler, 86400);
        }

        String body() {
            StringBuilder policy = new StringBuilder("version: STSv1\nmode: ").append(mode)
                    .append('\n');
            for (String m : mx) {
                policy.append("mx: ").append(m).append('\n');
            }
            for (int i = 0; i < filler; i++) {
                policy.append("mx: backup-").append(i).append(".filler-for-a-long-policy.test\n");
            }
            return policy.append("max_age: ").append(maxAge).append('\n').toString();
        }
    }

    /**
     * The domain {@code name.test} with its MX hosts in order of preference, an MTA-STS policy
     * (null: none published), and a TLSRPT record ({@code _smtp._tls}, so that Postfix 3.10
     * reports on its sessions).
     */
    record Domain(String name, List<Mx> mx, Sts sts, boolean bogus) {

        String fqdn() {
            return name + ".test";
        }

        String host(Mx m) {
            return m.label() + "." + fqdn();
        }
    }

    private final TestCa ca;
    private final KnotServer knot;
    private final UnboundServer resolver;
    private final Map<String, PolicyHost> policyHosts;
    private final PostfixContainer receiver;
    private final Path dir;

    private MailWorld(TestCa ca, KnotServer knot, UnboundServer resolver,
                      Map<String, PolicyHost> policyHosts, PostfixContainer receiver, Path dir) {
        this.ca = ca;
        this.knot = knot;
        this.resolver = resolver;
        this.policyHosts = policyHosts;
        this.receiver = receiver;
        this.dir = dir;
    }

    static MailWorld start(Path dir, List<Domain> domains) throws Exception {
        TestCa ca = TestCa.create("tlspolicy mail world CA");
        TestCa unknownCa = TestCa.create("a CA nobody in the mail world trusts");
        TestCa intermediate = ca.intermediate("tlspolicy mail world intermediate CA");
        Instant now = Instant.now();
        StringBuilder parent = new StringBuilder("""
                $ORIGIN test.
                $TTL 300
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 300
                @ NS ns.test.
                ns A 127.0.0.1
                """);
        Map<String, String> zones = new LinkedHashMap<>();
        List<String> stubs = new ArrayList<>(List.of("test."));
        Map<String, String> receiverFiles = new LinkedHashMap<>();
        StringBuilder listeners = new StringBuilder("postconf -MX smtp/inet\n");
        Map<String, PolicyHost> policyHosts = new LinkedHashMap<>();
        ZoneSigner.Key parentKey = ZoneSigner.newKey("test.");
        int policyIp = 1;
        try {
            for (Domain d : domains) {
                StringBuilder records = new StringBuilder();
                int preference = 10;
                for (Mx m : d.mx()) {
                    String host = d.host(m);
                    records.append(d.name()).append(" MX ").append(preference).append(' ')
                            .append(host).append(".\n");
                    records.append(host).append(". A ").append(m.ip()).append('\n');
                    preference += 10;
                    TestCa.ServerIdentity id = identity(ca, unknownCa, intermediate, host,
                            m.cert(), now);
                    // A host without STARTTLS has no key: its records name some other key.
                    String own = id != null ? id.spkiSha256()
                            : TestCa.selfSigned(host).spkiSha256();
                    String tlsa = switch (m.tlsa()) {
                        case MATCHING -> "TLSA 3 1 1 " + own;
                        case MISMATCHING -> "TLSA 3 1 1 " + TestCa.selfSigned(host).spkiSha256();
                        case UNUSABLE -> "TLSA 1 1 1 " + own;
                        case ROLLOVER -> "TLSA 3 1 1 " + own + "\n_25._tcp." + host
                                + ". TLSA 3 1 1 " + TestCa.selfSigned(host).spkiSha256();
                        case NONE -> null;
                    };
                    if (tlsa != null && d.bogus()) {
                        // The TLSA records alone sit in a zone of their own whose signatures
                        // have expired: MX and addresses validate, so Postfix gets as far as
                        // asking for the TLS policy, and only the TLSA answer is bogus.
                        String zone = "_25._tcp." + host + ".";
                        ZoneSigner.Key key = ZoneSigner.newKey(zone);
                        String child = "$ORIGIN " + zone + "\n$TTL 300\n"
                                + "@ SOA ns.test. hostmaster.test. 1 3600 900 604800 300\n"
                                + "@ NS ns.test.\n@ " + tlsa + "\n";
                        zones.put(zone, ZoneSigner.sign(child, zone, key,
                                now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1))));
                        stubs.add(zone);
                        records.append(zone).append(" NS ns.test.\n").append(key.ds());
                    } else if (tlsa != null) {
                        records.append("_25._tcp.").append(host).append(". ").append(tlsa)
                                .append('\n');
                    }
                    listeners.append(listener(host, m, id != null)).append('\n');
                    if (id != null) {
                        receiverFiles.put(host + ".pem", pem(id));
                    }
                }
                records.append("_smtp._tls.").append(d.name())
                        .append(" TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@").append(d.fqdn())
                        .append("\"\n");
                if (d.sts() != null) {
                    Sts sts = d.sts();
                    String ip = "127.0.3." + policyIp++;
                    records.append("_mta-sts.").append(d.name())
                            .append(" TXT \"v=STSv1; id=1;\"\n");
                    records.append("mta-sts.").append(d.name()).append(" A ").append(ip)
                            .append('\n');
                    PolicyHost.Responder responder = switch (sts.served()) {
                        case NOT_FOUND -> PolicyHost.status(404);
                        case REDIRECT -> PolicyHost.redirect(301, "https://www." + d.fqdn()
                                + "/mta-sts.txt");
                        case INVALID -> PolicyHost.ok("version: STSv1\nmode: enforce\n");
                        default -> PolicyHost.ok(sts.body());
                    };
                    String name = sts.served() == Served.WRONG_CERTIFICATE
                            ? "wrong-name.invalid" : "mta-sts." + d.fqdn();
                    TestCa.ServerIdentity policyId = sts.served() == Served.EXPIRED_CERTIFICATE
                            ? ca.issue(List.of(name), now.minus(Duration.ofDays(90)),
                            now.minus(Duration.ofDays(1))) : ca.issue(name);
                    policyHosts.put(d.fqdn(), PolicyHost.start(policyId, responder,
                            new InetSocketAddress(ip, 443)));
                }
                parent.append(records);
            }
        } catch (Exception e) {
            for (PolicyHost h : policyHosts.values()) {
                h.close();
            }
            throw e;
        }
        Map<String, String> all = new LinkedHashMap<>();
        all.put("test.", ZoneSigner.sign(parent.toString(), "test.", parentKey,
                now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(7))));
        all.putAll(zones);
        KnotServer knot = null;
        UnboundServer resolver = null;
        PostfixContainer receiver = null;
        try {
            knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")), all);
            resolver = UnboundServer.validating(dir.resolve("unbound"), RESOLVER, knot.address(),
                    stubs, parentKey.ds(), List.of());
            receiverFiles.put("main.cf", """
                    compatibility_level = 3.6
                    myhostname = receiver.test
                    mydestination =
                    alias_maps =
                    inet_interfaces = loopback-only
                    inet_protocols = ipv4
                    # Accept mail for every domain and discard it: the MX hosts of the world.
                    relay_domains = static:all
                    relay_transport = discard
                    smtpd_tls_loglevel = 1
                    maillog_file = /var/log/postfix/mail.log
                    """);
            receiverFiles.put("setup.sh", listeners.toString());
            // The MX hosts are Postfix 3.7 whatever the sender is: they only need to answer.
            receiver = PostfixContainer.start(PostfixRelease.DEBIAN_12, dir.resolve("receiver"),
                    receiverFiles);
            return new MailWorld(ca, knot, resolver, policyHosts, receiver, dir);
        } catch (Exception e) {
            for (PolicyHost h : policyHosts.values()) {
                h.close();
            }
            if (resolver != null) {
                resolver.close();
            }
            if (knot != null) {
                knot.close();
            }
            throw e;
        }
    }

    private static TestCa.ServerIdentity identity(TestCa ca, TestCa unknownCa,
                                                  TestCa intermediate, String host, Cert cert,
                                                  Instant now) throws Exception {
        return switch (cert) {
            case VALID -> ca.issue(host);
            case LEAF_ONLY -> intermediate.issue(host).leafOnly();
            case EXPIRING -> ca.issue(List.of(host), now.minus(Duration.ofDays(80)),
                    now.plus(Duration.ofDays(10)).plus(Duration.ofHours(1)));
            case UNTRUSTED_CA -> unknownCa.issue(host);
            case WRONG_NAME -> ca.issue("wrong-name.invalid");
            case EXPIRED -> ca.issue(List.of(host), now.minus(Duration.ofDays(30)),
                    now.minus(Duration.ofDays(1)));
            case SELF_SIGNED -> TestCa.selfSigned(host);
            case NO_STARTTLS -> null;
        };
    }

    /** A master.cf smtpd listener on port 25 of the MX host's address, as that host. */
    private static String listener(String host, Mx m, boolean tls) {
        String service = m.ip() + ":smtp";
        String options = " -o myhostname=" + host
                + (tls ? " -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=/config/"
                        + host + ".pem"
                        : " -o smtpd_tls_security_level=none");
        return "postconf -M '" + service + "/inet=" + service + " inet n - n - - smtpd"
                + options + "'";
    }

    private static String pem(TestCa.ServerIdentity id) throws Exception {
        Path tmp = Files.createTempFile("identity", ".pem");
        try {
            return Files.readString(id.writePem(tmp));
        } finally {
            Files.delete(tmp);
        }
    }

    /** The README's main.cf lines (postfix-conf/main.cf), pointed at tlspolicyd on a port. */
    static String readmeLines(int daemonPort) throws IOException {
        String readmeLines = Files.readString(Path.of("../postfix-conf/main.cf"));
        if (!readmeLines.contains("socketmap:inet:127.0.0.1:8461:postfix")) {
            throw new IllegalStateException("postfix-conf/main.cf no longer has the line this "
                    + "test points at the daemon");
        }
        return readmeLines.replace("127.0.0.1:8461", "127.0.0.1:" + daemonPort);
    }

    /**
     * postfix-conf/main.cf's lines for Postfix 3.10's TLSRPT client (commented out there, as
     * they are for 3.10 only), uncommented.
     */
    static String readmeTlsrptLines() throws IOException {
        StringBuilder b = new StringBuilder();
        for (String line : Files.readAllLines(Path.of("../postfix-conf/main.cf"))) {
            if (line.startsWith("#smtp_tlsrpt_")) {
                b.append(line.substring(1)).append('\n');
            }
        }
        if (!b.toString().contains("smtp_tlsrpt_enable = yes")
                || !b.toString().contains("smtp_tlsrpt_socket_name = run/tlsrpt/tlsrpt.sock")) {
            throw new IllegalStateException("postfix-conf/main.cf no longer has the TLSRPT "
                    + "lines this test turns on");
        }
        return b.toString();
    }

    /**
     * Starts the sending Postfix of {@code release} as {@code name}: the README's main.cf lines
     * with tlspolicyd on {@code daemonPort}, the world's resolver, its CA trusted for the
     * certificates that {@code secure} checks, then {@code extraMainCf} (later lines win).
     */
    PostfixContainer startSender(PostfixRelease release, String name, int daemonPort,
                                 String extraMainCf, Map<Path, String> binds) throws Exception {
        return startSender(release, name, readmeLines(daemonPort) + extraMainCf, binds, "");
    }

    /**
     * Starts a sending Postfix with postfix-conf/main.cf's unix-socket variant for a chrooted
     * smtp(8) ({@code socketmap:unix:private/tlspolicy:postfix}, the path relative to the
     * queue directory): {@code privateDir} on the host is the container's {@code
     * /var/spool/postfix/private}, where tlspolicyd's socket is.
     */
    PostfixContainer startUnixSocketSender(PostfixRelease release, Path privateDir)
            throws Exception {
        String readmeLines = Files.readString(Path.of("../postfix-conf/main.cf"));
        String tcp = "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix";
        String unix = "#smtp_tls_policy_maps = socketmap:unix:private/tlspolicy:postfix";
        if (!readmeLines.contains(tcp) || !readmeLines.contains(unix)) {
            throw new IllegalStateException("postfix-conf/main.cf no longer has the lines this "
                    + "test switches between");
        }
        // The bound directory is the host's: give it to postfix as Postfix wants private/.
        return startSender(release, "sender-unix", readmeLines.replace(tcp, "#" + tcp)
                .replace(unix, unix.substring(1)), Map.of(privateDir,
                "/var/spool/postfix/private"),
                "chown postfix /var/spool/postfix/private\n"
                        + "chmod 700 /var/spool/postfix/private\n");
    }

    private PostfixContainer startSender(PostfixRelease release, String name,
                                         String readmeLines, Map<Path, String> binds,
                                         String setup) throws Exception {
        String mainCf = senderMainCf("sender.test")
                + "# The README's lines (postfix-conf/main.cf), pointed at the test's tlspolicyd:\n"
                + readmeLines;
        Map<String, String> files = new LinkedHashMap<>();
        files.put("main.cf", mainCf);
        files.put("ca.pem", TestCa.pem(ca.certificate()));
        // glibc passes the AD bit on only with trust-ad; Postfix's DANE needs it.
        files.put("resolv.conf", "nameserver " + RESOLVER.getAddress().getHostAddress()
                + "\noptions trust-ad\n");
        // It sends; nothing listens on :25.
        files.put("setup.sh", "postconf -MX smtp/inet\n" + setup);
        return PostfixContainer.start(release, dir.resolve(name), files, binds);
    }

    /**
     * The main.cf of a sending Postfix of the tests, named {@code myhostname}, before its
     * policy map line: it sends only (loopback), logs to the file the tests read, trusts the
     * test CA's {@code /config/ca.pem}, keeps TLS sessions for resumption as Debian's main.cf
     * does, and tries each message once. Its TLS log level comes with the README's lines
     * (postfix-conf/main.cf) that follow.
     */
    static String senderMainCf(String myhostname) {
        return """
                compatibility_level = 3.6
                myhostname = %s
                mydestination =
                alias_maps =
                inet_interfaces = loopback-only
                inet_protocols = ipv4
                maillog_file = /var/log/postfix/mail.log
                smtp_tls_CAfile = /config/ca.pem
                # Debian's main.cf: TLS sessions resumed across smtp(8) processes.
                smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache
                smtp_connect_timeout = 5s
                # One attempt per message while the test runs: no retries of deferred mail,
                # and a deferral does not suspend delivery to that domain for the next test.
                queue_run_delay = 1h
                minimal_backoff_time = 1h
                maximal_backoff_time = 1h
                smtp_destination_concurrency_failed_cohort_limit = 1000
                """.formatted(myhostname);
    }

    /** Writes the test CA's certificate as PEM (tlspolicyd's mta_sts.extra_ca_file). */
    Path caFile() throws Exception {
        return ca.writePem(dir.resolve("ca.pem"));
    }

    PolicyHost policyHost(String domain) {
        return policyHosts.get(domain);
    }

    PostfixContainer receiver() {
        return receiver;
    }

    @Override
    public void close() throws Exception {
        receiver.close();
        for (PolicyHost h : policyHosts.values()) {
            h.close();
        }
        resolver.close();
        knot.close();
    }
}
