package org.tlspolicy.it;

import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HealthCheck;
import com.github.dockerjava.api.model.Volume;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;
import org.tlspolicy.testworld.UnboundServer;
import org.tlspolicy.testworld.ZoneSigner;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 32 §4: the OCI image (container/), built by container/build from the .deb this build
 * made, on a Debian 12 rootfs made with debootstrap (no registry here), serving a Postfix in
 * another container, as docker-mailserver or mailcow would run them. The world lives on a
 * Docker network of the test's own ({@code --internal}, 172.31.250.0/24): the host's end of it
 * (.1) carries the DNS (knotd behind unbound; the zone signed, its key tlspolicyd's trust
 * anchor) and the HTTPS policy host; the MX host is a Postfix 3.7 container (.20) holding a
 * certificate for {@code mx.secure.ct.test} only, so {@code bad.ct.test}, whose MTA-STS policy
 * names {@code mx.bad.ct.test} at the same address, meets a certificate of the wrong name.
 * The sending Postfix (.10) has the one line the docs give for mail-server stacks and reaches
 * tlspolicyd by its container name.
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class ContainerImageTest {

    private static final String SUBNET = "172.31.250.0/24";
    private static final String GATEWAY = "172.31.250.1";
    private static final String DAEMON = "172.31.250.5";
    private static final String DEFAULT_DAEMON = "172.31.250.6";
    private static final String SENDER = "172.31.250.10";
    private static final String MX = "172.31.250.20";
    private static final String ENTRYPOINT = "/usr/local/bin/tlspolicy-container";

    @Test
    void postfixInAnotherContainerDeliversUnderSecureAndDefersUnderABadCertificate(
            @TempDir Path dir) throws Exception {
        String image = build();
        // The image as docs/container.md describes it: an unprivileged user, a health check,
        // the store a volume.
        String inspect = docker("image", "inspect", "--format",
                "{{.Config.User}}|{{json .Config.Healthcheck.Test}}|{{json .Config.Volumes}}",
                image);
        assertEquals("tlspolicyd|[\"CMD\",\"" + ENTRYPOINT + "\",\"health\"]|"
                + "{\"/var/lib/tlspolicyd\":{}}", inspect.strip());

        TestCa ca = TestCa.create("ct.test CA");
        String volume = "tlspolicy-it-store-" + UUID.randomUUID();
        try (Network net = Network.builder().createNetworkCmdModifier(cmd -> cmd
                .withInternal(true)
                .withIpam(new com.github.dockerjava.api.model.Network.Ipam().withConfig(
                        new com.github.dockerjava.api.model.Network.Ipam.Config()
                                .withSubnet(SUBNET).withGateway(GATEWAY)))).build()) {
            net.getId(); // made now: the host's end (GATEWAY) must exist before we bind it
            try (World world = World.start(dir, ca)) {
                try (PostfixContainer mx = PostfixContainer.start(PostfixRelease.DEBIAN_12,
                        dir.resolve("mx"), mxFiles(ca), Map.of(), on(net, MX));
                     GenericContainer<?> daemon = daemon(image, net, dir, world, volume);
                     GenericContainer<?> defaults = new GenericContainer<>(
                             DockerImageName.parse(image))
                             .withNetwork(net)
                             .withCreateContainerCmdModifier(cmd -> {
                                 cmd.withIpv4Address(DEFAULT_DAEMON);
                                 cmd.getHostConfig().withDns(GATEWAY);
                             })
                             .waitingFor(Wait.forLogMessage(".*started map=.*\\n", 1)
                                     .withStartupTimeout(Duration.ofSeconds(120)))) {
                    daemon.start();
                    defaults.start();
                    PostfixContainer sender = PostfixContainer.start(PostfixRelease.DEBIAN_12,
                            dir.resolve("sender"), senderFiles(ca), Map.of(), on(net, SENDER));
                    try (sender) {
                        int mark = sender.log().mark();
                        sender.send("alice@sender.ct.test", "bob@secure.ct.test", "secure");
                        PostfixLog.Delivery good = sender.log().awaitDelivery(
                                "bob@secure.ct.test", mark, 60);
                        assertTrue(good.sent(), good.line());
                        assertTrue(good.relay().startsWith("mx.secure.ct.test[" + MX + "]"),
                                good.line());
                        sender.log().awaitLine("Verified TLS connection established to "
                                + "mx.secure.ct.test[" + MX + "]:25", mark, 10);

                        mark = sender.log().mark();
                        sender.send("alice@sender.ct.test", "carol@bad.ct.test", "bad cert");
                        PostfixLog.Delivery bad = sender.log().awaitDelivery(
                                "carol@bad.ct.test", mark, 60);
                        assertTrue(bad.deferred(), bad.line());
                        assertTrue(bad.reason().contains("Server certificate not verified"),
                                bad.line());
                        assertTrue(sender.queue().contains("carol@bad.ct.test"));

                        // What tlspolicyd answered, through its control socket in the
                        // container, and its decision lines on the container's output.
                        String cache = exec(daemon, ENTRYPOINT, "cache", "show",
                                "secure.ct.test");
                        assertTrue(cache.contains("secure match=mx.secure.ct.test"), cache);
                        assertTrue(daemon.getLogs().contains("domain=bad.ct.test"),
                                daemon.getLogs());

                        // The defaults: the socketmap on the container's loopback only.
                        Container.ExecResult outside = sender.execResult("bash", "-c",
                                "exec 3<>/dev/tcp/" + DEFAULT_DAEMON + "/8461");
                        assertNotEquals(0, outside.getExitCode(), "reachable from outside");
                        exec(defaults, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8461");
                    }
                    // The unprivileged user, the store on the volume, the sender's program.
                    assertEquals("tlspolicyd", exec(daemon, "id", "-un").strip());
                    assertEquals("tlspolicyd", exec(daemon, "stat", "-c", "%U",
                            "/var/lib/tlspolicyd/cache.db").strip());
                    assertTrue(exec(daemon, ENTRYPOINT, "tlsrpt-sender", "--version")
                            .contains("tlsrpt-sender"));
                    assertEquals("healthy", docker("inspect", "--format",
                            "{{.State.Health.Status}}", daemon.getContainerId()).strip());
                }
            }
        } finally {
            try {
                DockerClientFactory.instance().client().removeVolumeCmd(volume).exec();
            } catch (RuntimeException gone) {
                // never made (the test failed before the daemon started)
            }
        }
    }

    /** The image container/build makes of this build's .deb, on a debootstrap base. */
    private static String build() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("../container/build", "--deb",
                DebianPackageTest.deb().toString(), "--base", "debootstrap", "--tag",
                "tlspolicy-test/tlspolicyd-image:it")
                .redirectErrorStream(false);
        Path log = Files.createTempFile("container-build", ".log");
        pb.redirectError(log.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("container/build failed:\n" + Files.readString(log));
        }
        Files.delete(log);
        return out.strip();
    }

    private static GenericContainer<?> daemon(String image, Network net, Path dir, World world,
                                              String volume) throws Exception {
        // The operator's file, mounted over the image's, taking its addresses from the
        // environment as the image's own file does.
        Path config = Files.writeString(dir.resolve("tlspolicyd.yml"), """
                socketmap:
                  listen: ["${TLSPOLICYD_LISTEN:-127.0.0.1:8461}"]
                  allow_remote: ${TLSPOLICYD_ALLOW_REMOTE:-false}
                dns: {servers: [${TLSPOLICYD_DNS_SERVERS}], timeout: 2s, attempts: 2}
                # test-only: the world's policy host is on a private address and its CA ours
                mta_sts: {allow_private_addresses: true, extra_ca_file: /etc/tlspolicyd/ca.pem}
                dane: {dnssec: validate, trust_anchor_file: /etc/tlspolicyd/anchors.ds}
                metrics: {listen: "127.0.0.1:8462"}
                tlsrpt: "off"
                """);
        return new GenericContainer<>(DockerImageName.parse(image))
                .withNetwork(net)
                .withNetworkAliases("tlspolicyd")
                .withEnv("TLSPOLICYD_LISTEN", "0.0.0.0:8461")
                .withEnv("TLSPOLICYD_ALLOW_REMOTE", "true")
                .withEnv("TLSPOLICYD_DNS_SERVERS", GATEWAY + ":53")
                .withFileSystemBind(config.toString(), "/etc/tlspolicyd/tlspolicyd.yml",
                        BindMode.READ_ONLY)
                .withFileSystemBind(world.caFile().toString(), "/etc/tlspolicyd/ca.pem",
                        BindMode.READ_ONLY)
                .withFileSystemBind(world.anchors().toString(), "/etc/tlspolicyd/anchors.ds",
                        BindMode.READ_ONLY)
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withIpv4Address(DAEMON);
                    // Added to the file binds above, not in their place.
                    List<Bind> binds = new java.util.ArrayList<>(List.of(
                            cmd.getHostConfig().getBinds()));
                    binds.add(new Bind(volume, new Volume("/var/lib/tlspolicyd")));
                    cmd.getHostConfig().withDns(GATEWAY).withBinds(binds);
                    // The image's check, asked every second instead of every 30 s.
                    cmd.withHealthcheck(new HealthCheck()
                            .withTest(List.of("CMD", ENTRYPOINT, "health"))
                            .withInterval(TimeUnit.SECONDS.toNanos(1))
                            .withTimeout(TimeUnit.SECONDS.toNanos(5))
                            .withRetries(3));
                })
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(120)));
    }

    private static Consumer<GenericContainer<?>> on(Network net, String ip) {
        return c -> c.withNetwork(net).withCreateContainerCmdModifier(cmd -> {
            cmd.withIpv4Address(ip);
            cmd.getHostConfig().withDns(GATEWAY);
        });
    }

    private static Map<String, String> mxFiles(TestCa ca) throws Exception {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("main.cf", """
                compatibility_level = 3.6
                myhostname = mx.secure.ct.test
                mydestination =
                alias_maps =
                inet_interfaces = all
                inet_protocols = ipv4
                relay_domains = static:all
                relay_transport = discard
                smtpd_tls_security_level = may
                smtpd_tls_chain_files = /config/mx.pem
                smtpd_tls_loglevel = 1
                maillog_file = /var/log/postfix/mail.log
                """);
        Path tmp = Files.createTempFile("mx", ".pem");
        try {
            files.put("mx.pem", Files.readString(ca.issue("mx.secure.ct.test").writePem(tmp)));
        } finally {
            Files.delete(tmp);
        }
        return files;
    }

    private static Map<String, String> senderFiles(TestCa ca) throws Exception {
        Map<String, String> files = new LinkedHashMap<>();
        // docs/container.md's line, as docker-mailserver's postfix-main.cf or mailcow's
        // extra.cf would carry it:
        files.put("main.cf", MailWorld.senderMainCf("sender.ct.test")
                + "smtp_tls_loglevel = 1\n" + ContainerDocs.overrideLine() + "\n");
        files.put("ca.pem", TestCa.pem(ca.certificate()));
        files.put("setup.sh", "postconf -MX smtp/inet\n");
        return files;
    }

    private static String exec(GenericContainer<?> c, String... command) throws Exception {
        Container.ExecResult r = c.execInContainer(command);
        if (r.getExitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited "
                    + r.getExitCode() + ": " + r.getStdout() + r.getStderr());
        }
        return r.getStdout();
    }

    private static String docker(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", command) + ": " + out);
        }
        return out;
    }

    /** The line docs/container.md gives for the mail-server stacks' main.cf. */
    static final class ContainerDocs {
        static String overrideLine() throws Exception {
            String line = "smtp_tls_policy_maps = socketmap:inet:tlspolicyd:8461:postfix";
            String doc = Files.readString(Path.of("../docs/container.md"));
            if (!doc.contains(line)) {
                throw new AssertionError("docs/container.md no longer gives: " + line);
            }
            return line;
        }
    }

    /**
     * DNS and policy host on the host's end of the network: knotd (signed zone ct.test.)
     * behind unbound on GATEWAY:53, and one HTTPS policy host on GATEWAY:443 answering each
     * mta-sts name with its domain's enforce policy.
     */
    private record World(KnotServer knot, UnboundServer resolver, PolicyHost policy,
                         Path caFile, Path anchors) implements AutoCloseable {

        static World start(Path dir, TestCa ca) throws Exception {
            String origin = "ct.test.";
            ZoneSigner.Key key = ZoneSigner.newKey(origin);
            String zone = "$ORIGIN ct.test.\n$TTL 300\n"
                    + "@ SOA ns.ct.test. hostmaster.ct.test. 1 3600 900 604800 300\n"
                    + "@ NS ns\nns A " + GATEWAY + "\n"
                    + sts("secure") + sts("bad");
            Instant now = Instant.now();
            KnotServer knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                    Map.of(origin, ZoneSigner.sign(zone, origin, key,
                            now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(7)))));
            UnboundServer resolver = null;
            try {
                resolver = UnboundServer.iterating(dir.resolve("unbound"),
                        new InetSocketAddress(GATEWAY, 53), knot.address(), List.of(origin));
                PolicyHost policy = PolicyHost.start(ca.issue(List.of("mta-sts.secure.ct.test",
                        "mta-sts.bad.ct.test")), World::policy,
                        new InetSocketAddress(GATEWAY, 443));
                return new World(knot, resolver, policy,
                        ca.writePem(dir.resolve("ca.pem")),
                        Files.writeString(dir.resolve("anchors.ds"), key.ds()));
            } catch (Exception e) {
                if (resolver != null) {
                    resolver.close();
                }
                knot.close();
                throw e;
            }
        }

        /** DOMAIN.ct.test: its MX mx.DOMAIN at the MX container, MTA-STS enforce. */
        private static String sts(String d) {
            return d + " MX 10 mx." + d + "\n"
                    + "mx." + d + " A " + MX + "\n"
                    + "_mta-sts." + d + " TXT \"v=STSv1; id=1;\"\n"
                    + "mta-sts." + d + " A " + GATEWAY + "\n";
        }

        private static void policy(Socket socket, String requestLine)
                throws java.io.IOException, InterruptedException {
            String name = "";
            if (((SSLSocket) socket).getSession() instanceof ExtendedSSLSession e) {
                for (SNIServerName n : e.getRequestedServerNames()) {
                    if (n instanceof SNIHostName h) {
                        name = h.getAsciiName();
                    }
                }
            }
            String domain = name.startsWith("mta-sts.") ? name.substring(8) : "unknown.test";
            PolicyHost.ok("version: STSv1\nmode: enforce\nmx: mx." + domain
                    + "\nmax_age: 86400\n").respond(socket, requestLine);
        }

        @Override
        public void close() throws Exception {
            policy.close();
            resolver.close();
            knot.close();
        }
    }
}
