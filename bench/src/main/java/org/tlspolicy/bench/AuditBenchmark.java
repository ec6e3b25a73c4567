package org.tlspolicy.bench;

import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;
import org.tlspolicy.testworld.UnboundServer;
import org.tlspolicy.testworld.ZoneSigner;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@code tlspolicyd audit --from FILE} of 100 domains in a test world, as an operator runs it
 * (the packaged jar, a new JVM each time): knotd serving the signed zone {@code test.}, Debian's
 * unbound validating in front of it, one HTTPS policy host for every {@code mta-sts.dN.test}
 * (a certificate per name from a test CA), and four MX hosts on port 25 of 127.0.2.201-204
 * answering STARTTLS with a certificate naming all 100 MX hosts and TLSA records matching it.
 * The MX hosts are a minimal SMTP responder written here (greeting, EHLO, STARTTLS with the
 * JDK's TLS, QUIT), not Postfix: what is measured is the audit, and the suite's AuditTest
 * probes a real Postfix. Each domain: MTA-STS (testing) and its record, MX, TLSA, TLSRPT.
 *
 * <p>Reference, in the same run: the audit of one domain (JVM start included). Median of 3
 * rounds. Goal (issue 31): 100 domains in 10 s. Needs root (ports 25 and 443) and Debian's
 * knot and unbound, as the tests do.
 *
 * <p>Usage: {@code java -cp bench/target/tlspolicy-bench.jar
 * org.tlspolicy.bench.AuditBenchmark [DOMAINS] [DIR]}.
 */
public final class AuditBenchmark {

    private AuditBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int domains = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("audit");
        Path jar = Path.of(System.getProperty("tlspolicyd.jar", "daemon/target/tlspolicyd.jar"));
        TestCa ca = TestCa.create("audit benchmark CA");
        List<String> mxNames = new ArrayList<>();
        for (int i = 0; i < domains; i++) {
            mxNames.add("mx.d" + i + ".test");
        }
        TestCa.ServerIdentity mx = ca.issue(mxNames);
        Instant now = Instant.now();
        StringBuilder zone = new StringBuilder("""
                $ORIGIN test.
                $TTL 300
                @ SOA ns.test. hostmaster.test. 1 3600 900 604800 300
                @ NS ns.test.
                ns A 127.0.0.1
                """);
        for (int i = 0; i < domains; i++) {
            String d = "d" + i;
            String host = "mx." + d + ".test.";
            zone.append(d).append(" MX 10 ").append(host).append('\n')
                    .append(host).append(" A 127.0.2.").append(201 + i % 4).append('\n')
                    .append("_25._tcp.").append(host).append(" TLSA 3 1 1 ")
                    .append(mx.spkiSha256()).append('\n')
                    .append("_mta-sts.").append(d).append(" TXT \"v=STSv1; id=1;\"\n")
                    .append("mta-sts.").append(d).append(" A 127.0.3.200\n")
                    .append("_smtp._tls.").append(d).append(" TXT \"v=TLSRPTv1; rua=mailto:"
                            + "tlsrpt@").append(d).append(".test\"\n");
        }
        ZoneSigner.Key key = ZoneSigner.newKey("test.");
        String signed = ZoneSigner.sign(zone.toString(), "test.", key,
                now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(7)));
        Path list = Files.writeString(Files.createDirectories(dir).resolve("domains.txt"), String.join("\n",
                mxNames.stream().map(m -> m.substring(3)).toList()) + "\n");
        ExecutorService responders = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "smtp");
            t.setDaemon(true);
            return t;
        });
        List<ServerSocket> sockets = new ArrayList<>();
        SSLContext tls = mx.serverContext();
        try (KnotServer knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                java.util.Map.of("test.", signed));
             UnboundServer unbound = UnboundServer.validating(dir.resolve("unbound"),
                     knot.address(), List.of("test."), key.ds(), List.of());
             PolicyHost policy = PolicyHost.start(ca.anyNameServerContext(),
                     AuditBenchmark::policyFor, new InetSocketAddress("127.0.3.200", 443))) {
            for (int i = 1; i <= 4; i++) {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress("127.0.2.20" + i, 25), 200);
                sockets.add(s);
                responders.execute(() -> accept(s, tls, responders));
            }
            Path config = Files.writeString(dir.resolve("audit.yml"), """
                    dns: {servers: ["127.0.0.1:%d"], timeout: 2s, attempts: 2}
                    mta_sts: {allow_private_addresses: true, extra_ca_file: "%s"}
                    dane: {dnssec: resolver}
                    """.formatted(unbound.address().getPort(), ca.writePem(dir.resolve(
                    "ca.pem"))));
            double[] all = new double[3];
            double[] one = new double[3];
            for (int round = 0; round < 3; round++) {
                one[round] = run(jar, config, List.of("d1.test"), 0);
                all[round] = run(jar, config, List.of("--from", list.toString()), 0);
                System.out.printf(Locale.ROOT, "round %d: %d domains %.2f s, one domain %.2f s%n",
                        round + 1, domains, all[round], one[round]);
            }
            double t = median(all);
            System.out.printf(Locale.ROOT, "audit of %d domains: %.2f s (median of 3), one "
                    + "domain %.2f s: %.1f× one; goal 10 s: %s%n", domains, t, median(one),
                    t / median(one), t <= 10 ? "met" : "NOT met");
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
            responders.shutdownNow();
        }
    }

    /** Each domain's policy names its own MX host: the name asked for (SNI) says which. */
    private static void policyFor(Socket socket, String requestLine) throws IOException,
            InterruptedException {
        String name = "";
        if (((SSLSocket) socket).getSession() instanceof javax.net.ssl.ExtendedSSLSession e) {
            for (javax.net.ssl.SNIServerName n : e.getRequestedServerNames()) {
                if (n instanceof javax.net.ssl.SNIHostName h) {
                    name = h.getAsciiName();
                }
            }
        }
        String domain = name.startsWith("mta-sts.") ? name.substring(8) : "unknown.test";
        PolicyHost.ok("version: STSv1\nmode: testing\nmx: mx." + domain + "\nmax_age: 86400\n")
                .respond(socket, requestLine);
    }

    /** The audit's exit code must be 0 (every check ok): the world is right. */
    private static double run(Path jar, Path config, List<String> args, int expect)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"),
                "bin", "java").toString(), "-jar", jar.toString(), "audit", "--config",
                config.toString()));
        command.addAll(args);
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != expect) {
            throw new IllegalStateException("audit exited " + p.exitValue() + ":\n" + out);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** A minimal SMTP server: greeting, EHLO with STARTTLS, the handshake, QUIT. */
    private static void accept(ServerSocket server, SSLContext tls, ExecutorService threads) {
        while (!server.isClosed()) {
            try {
                Socket c = server.accept();
                threads.execute(() -> converse(c, tls));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private static void converse(Socket c, SSLContext tls) {
        try (c) {
            c.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(),
                    StandardCharsets.US_ASCII));
            OutputStream out = c.getOutputStream();
            out.write("220 mx.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
            in.readLine();
            out.write("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            in.readLine();
            out.write("220 2.0.0 Ready to start TLS\r\n".getBytes(StandardCharsets.US_ASCII));
            SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(c, null, c.getPort(),
                    false);
            s.setUseClientMode(false);
            s.startHandshake();
            new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
        } catch (IOException e) {
            // the client went away
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
