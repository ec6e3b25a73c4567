package org.tlspolicy.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Start-up time: from launching {@code java -jar tlspolicyd.jar serve} to the first lookup
 * answered with the policy of a domain in the persisted cache, with N stored policies, beside the
 * same measurement with an empty store (the reference: JVM and daemon start alone), in one run,
 * median of the rounds. MTA-STS only (DANE off: its results would need DNS, which is a closed
 * port here); DNS at a closed loopback port, so nothing leaves the machine.
 *
 * <pre>
 *   java -cp bench/target/tlspolicy-bench.jar org.tlspolicy.bench.StartupTime \
 *       daemon/target/tlspolicyd.jar 100000 3
 * </pre>
 */
public final class StartupTime {

    private static final int PORT = 18471;

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args.length > 0 ? args[0] : "daemon/target/tlspolicyd.jar");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Path dir = Files.createTempDirectory("startup");
        Path full = dir.resolve("full.db");
        StoreFiller.fill(full, n);
        Path empty = dir.resolve("empty.db");
        StoreFiller.fill(empty, 0);
        List<Double> withStore = new ArrayList<>();
        List<Double> reference = new ArrayList<>();
        String key = "domain" + (n / 2) + ".example";
        for (int r = 0; r < rounds; r++) {
            reference.add(firstAnswer(jar, dir, empty, key, false));
            withStore.add(firstAnswer(jar, dir, full, key, true));
        }
        double a = median(withStore);
        double b = median(reference);
        System.out.printf(Locale.ROOT, "stored_policies=%d rounds=%d first_policy_s=%.3f "
                + "empty_store_first_answer_s=%.3f ratio=%.2f all_with=%s all_empty=%s%n",
                n, rounds, a, b, a / b, withStore, reference);
    }

    /** Seconds from launch until {@code key} is answered (with OK when {@code policy}). */
    static double firstAnswer(Path jar, Path dir, Path store, String key, boolean policy)
            throws Exception {
        Path config = Files.writeString(dir.resolve("tlspolicyd.yml"), """
                socketmap: {listen: ["127.0.0.1:%d"]}
                dns: {servers: ["127.0.0.1:9"], timeout: 200ms, attempts: 1}
                dane: {enabled: false}
                cache: {path: "%s"}
                tlsrpt: "off"
                log: {level: warn}
                """.formatted(PORT, store));
        String java = ProcessHandle.current().info().command().orElse("java");
        long start = System.nanoTime();
        Process p = new ProcessBuilder(java, "-jar", jar.toString(), "serve", "--config",
                config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("daemon.log").toFile()).start();
        try {
            long deadline = start + 30_000_000_000L;
            while (System.nanoTime() < deadline) {
                String reply = lookup(key);
                if (reply != null && (!policy || reply.startsWith("OK "))) {
                    return (System.nanoTime() - start) / 1e9;
                }
                if (reply != null && policy) {
                    throw new IllegalStateException("stored policy not answered: " + reply);
                }
                Thread.sleep(2);
            }
            throw new IllegalStateException("no answer within 30 s");
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    private static String lookup(String key) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", PORT), 100);
            s.setSoTimeout(5000);
            byte[] q = ("postfix " + key).getBytes(StandardCharsets.UTF_8);
            s.getOutputStream().write((q.length + ":").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(q);
            s.getOutputStream().write(',');
            DataInputStream in = new DataInputStream(s.getInputStream());
            StringBuilder len = new StringBuilder();
            for (int b; (b = in.read()) != ':'; ) {
                if (b < 0) {
                    return null;
                }
                len.append((char) b);
            }
            byte[] payload = new byte[Integer.parseInt(len.toString()) + 1];
            in.readFully(payload);
            return new String(payload, 0, payload.length - 1, StandardCharsets.UTF_8);
        } catch (IOException notYet) {
            return null;
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}
