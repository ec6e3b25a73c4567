package org.tlspolicy.bench;

import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.PolicyHost;
import org.tlspolicy.testworld.TestCa;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A bounded soak of tlspolicyd (a few minutes): the daemon as a process, on its default
 * configuration but for the test world's resolver and CA, with 1000 known domains (half with
 * an MTA-STS enforce policy, half without; DANE on, with a resolver that does not validate, so
 * every DANE result is "no DANE", kept for dane.min_ttl), and five phases, each measured as
 * cached lookups of the known domains from 16 connections:
 *
 * <ol>
 *   <li>cold fill: every domain looked up once (its time is reported, not a ratio);</li>
 *   <li>steady: the reference;</li>
 *   <li>synchronized expiry: after a pause of no use, every DANE result and every "no
 *       MTA-STS" answer (all made in the fill) is past its TTL together;</li>
 *   <li>flood: 1100 idle connections (more than max_connections) and four clients pipelining
 *       3000 unknown domains each, beside the load;</li>
 *   <li>DNS outage: the DNS server stops answering (it is frozen, SIGSTOP).</li>
 * </ol>
 *
 * The cycle runs twice, on two sets of 1000 domains: the first (shorter phases) warms the JIT
 * up on every path the phases take (each phase's first occurrence in a daemon's life makes C2
 * compile what it runs, as in production once), the second is measured. Prints per phase
 * lookups/s and p99 and their ratios to the steady phase.
 *
 * <pre>java -cp tlspolicy-bench.jar org.tlspolicy.bench.Soak DAEMON_JAR [SECONDS_PER_PHASE]</pre>
 * Runs as root (the policy host listens on 127.0.5.1:443, where the daemon fetches).
 */
public final class Soak {

    private static final int DOMAINS = 1000;
    private static final int CONNECTIONS = 16;
    /** dane.min_ttl and cache.negative_ttl of the run: what expires together. */
    private static final int TTL_SECONDS = 60;

    private Soak() {
    }

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]);
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path dir = Files.createTempDirectory("soak");
        StringBuilder zone = new StringBuilder("""
                $ORIGIN soak.
                $TTL 60
                @ SOA ns.soak. hostmaster.soak. 1 3600 900 604800 60
                @ NS ns.soak.
                ns A 127.0.0.1
                """);
        List<String> policyNames = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 2 * DOMAINS; i++) {
            String d = "d" + i;
            zone.append(d).append(" MX 10 mx.").append(d).append('\n')
                    .append("mx.").append(d).append(" A 127.0.0.1\n");
            if (i % 2 == 0) {
                zone.append("_mta-sts.").append(d).append(" TXT \"v=STSv1; id=1;\"\n")
                        .append("mta-sts.").append(d).append(" A 127.0.5.1\n");
                policyNames.add("mta-sts." + d + ".soak");
            }
            keys.add(d + ".soak");
        }
        Path warmKeys = Files.write(dir.resolve("warm.txt"), keys.subList(0, DOMAINS));
        Path keyFile = Files.write(dir.resolve("keys.txt"), keys.subList(DOMAINS, 2 * DOMAINS));
        TestCa ca = TestCa.create("soak CA");
        try (KnotServer dns = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                Map.of("soak.", zone.toString()));
             PolicyHost host = PolicyHost.start(ca.issue(policyNames), PolicyHost.ok("""
                     version: STSv1
                     mode: enforce
                     mx: mail.soak.example
                     max_age: 604800
                     """), new InetSocketAddress("127.0.5.1", 443))) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Path config = Files.writeString(dir.resolve("tlspolicyd.yml"), """
                    socketmap: {listen: ["127.0.0.1:%d"]}
                    dns: {servers: ["127.0.0.1:%d"], timeout: 1s, attempts: 2}
                    mta_sts: {allow_private_addresses: true, extra_ca_file: "%s"}
                    dane: {dnssec: resolver, min_ttl: %ds}
                    cache: {path: "%s", negative_ttl: %ds%s}
                    tlsrpt: "off"
                    """.formatted(port, dns.address().getPort(), ca.writePem(dir.resolve(
                    "ca.pem")), TTL_SECONDS, dir.resolve("cache.db"), TTL_SECONDS,
                    System.getenv("SOAK_RESOLUTION_RATE") == null ? ""
                            : ", resolution_rate: " + System.getenv("SOAK_RESOLUTION_RATE")));
            List<String> command = new ArrayList<>(List.of("java"));
            String opts = System.getenv("SOAK_JAVA_OPTS"); // e.g. a JFR recording
            if (opts != null && !opts.isBlank()) {
                command.addAll(List.of(opts.trim().split("\\s+")));
            }
            command.addAll(List.of("-jar", jar.toString(), "serve", "--config",
                    config.toString()));
            Process daemon = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("daemon.log").toFile()).start();
            try {
                awaitLine(dir.resolve("daemon.log"), "started ");
                System.out.println("# warm-up cycle (not reported), " + seconds
                        + " s phases");
                run(port, warmKeys, dns, seconds, false);
                run(port, keyFile, dns, seconds, true);
            } finally {
                daemon.destroy();
                daemon.waitFor(10, TimeUnit.SECONDS);
                System.out.println("# daemon warnings and errors (first 10):");
                Files.readAllLines(dir.resolve("daemon.log")).stream()
                        .filter(l -> l.startsWith("WARN") || l.startsWith("ERROR")).limit(10)
                        .forEach(l -> System.out.println("#   " + l));
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile()
                        .delete());
            }
        }
    }

    private static void run(int port, Path keys, KnotServer dns, int seconds, boolean report)
            throws Exception {
        long filledAt = System.nanoTime();
        LoadGenerator.Result fill = load(port, keys, 0, 60, DOMAINS, "fill");
        if (report) {
            System.out.printf(Locale.ROOT, "# cold fill: %d domains in %.1f s (%s)%n", DOMAINS,
                    (System.nanoTime() - filledAt) / 1e9, fill.replies());
        }
        LoadGenerator.Result steady = load(port, keys, 2, seconds, Long.MAX_VALUE, "steady");
        // Nothing uses the entries until every one made in the fill is past its TTL.
        long expired = filledAt + TimeUnit.SECONDS.toNanos(TTL_SECONDS + 2);
        while (System.nanoTime() < expired) {
            Thread.sleep(100);
        }
        LoadGenerator.Result expiry = load(port, keys, 0, seconds, Long.MAX_VALUE,
                "synchronized-expiry");
        LoadGenerator.Result flood = flood(port, keys, seconds);
        dns.freeze(true);
        LoadGenerator.Result outage = load(port, keys, 0, seconds, Long.MAX_VALUE,
                "dns-outage");
        dns.freeze(false);
        if (!report) {
            return;
        }
        System.out.printf("%-20s %12s %9s %14s %11s %s%n", "phase", "lookups/s", "p99 ms",
                "÷ steady (/s)", "p99 ÷", "replies");
        for (LoadGenerator.Result r : List.of(steady, expiry, flood, outage)) {
            double p99 = r.latency().getValueAtPercentile(99) / 1e6;
            double steadyP99 = steady.latency().getValueAtPercentile(99) / 1e6;
            System.out.printf(Locale.ROOT, "%-20s %12.0f %9.2f %14.2f %11.2f %s%n", r.label(),
                    r.lookupsPerSecond(), p99, r.lookupsPerSecond() / steady.lookupsPerSecond(),
                    p99 / steadyP99, r.replies());
        }
    }

    private static LoadGenerator.Result load(int port, Path keys, int warmup, int seconds,
                                             long maxRequests, String label) throws IOException {
        if (System.getenv("SOAK_TRACE") != null) {
            System.out.println("# " + java.time.LocalTime.now() + " phase " + label);
        }
        return LoadGenerator.run(new LoadGenerator.Options("127.0.0.1", port, "postfix", keys,
                CONNECTIONS, warmup, seconds, maxRequests, label, false));
    }

    /**
     * The load beside 1100 idle connections and four clients pipelining unknown domains, all
     * closed afterwards (bounded: 3000 requests each, written once).
     */
    private static LoadGenerator.Result flood(int port, Path keys, int seconds)
            throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 1100; i++) {
                try {
                    held.add(new Socket("127.0.0.1", port));
                } catch (IOException refused) {
                    break;
                }
            }
            for (int c = 0; c < 4; c++) {
                Socket s = new Socket("127.0.0.1", port);
                held.add(s);
                StringBuilder burst = new StringBuilder();
                for (int i = 0; i < 3000; i++) {
                    String request = "postfix unknown-" + c + "-" + i + "-" + System.nanoTime()
                            + ".soak";
                    burst.append(request.length()).append(':').append(request).append(',');
                }
                OutputStream out = s.getOutputStream();
                Thread writer = new Thread(() -> {
                    try {
                        out.write(burst.toString().getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException closed) {
                        // the phase is over
                    }
                });
                writer.setDaemon(true);
                writer.start();
            }
            return load(port, keys, 0, seconds, Long.MAX_VALUE, "idle+pipelining-flood");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    private static void awaitLine(Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(
                        Files.newInputStream(log), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        if (l.contains(text)) {
                            return;
                        }
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new IOException("the daemon did not start; see " + log);
    }
}
