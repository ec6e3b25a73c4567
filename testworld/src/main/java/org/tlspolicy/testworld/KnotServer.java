package org.tlspolicy.testworld;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Knot DNS (knotd), a real authoritative server, started by a test on 127.0.0.1 with
 * the zones it is given, and stopped when closed. scripts/test installs the knot package.
 */
public final class KnotServer implements AutoCloseable {

    private final Process process;
    private final InetSocketAddress address;
    private final Path dir;

    private KnotServer(Process process, InetSocketAddress address, Path dir) {
        this.process = process;
        this.address = address;
        this.dir = dir;
    }

    /** Starts knotd serving {@code zones} (origin → zone file text) from {@code dir}. */
    public static KnotServer start(Path dir, Map<String, String> zones) throws Exception {
        Path knotd = Path.of("/usr/sbin/knotd");
        if (!Files.isExecutable(knotd)) {
            throw new IllegalStateException("/usr/sbin/knotd is missing: install Debian's knot "
                    + "package (scripts/test does)");
        }
        int port = freePort();
        StringBuilder conf = new StringBuilder()
                .append("server:\n  listen: 127.0.0.1@").append(port).append('\n')
                .append("  rundir: ").append(dir).append('\n')
                .append("log:\n  - target: stderr\n    any: warning\n")
                .append("database:\n  storage: ").append(dir).append('\n')
                .append("control:\n  listen: ").append(dir.resolve("knot.sock")).append('\n')
                .append("zone:\n");
        for (Map.Entry<String, String> zone : zones.entrySet()) {
            Path file = dir.resolve(zone.getKey() + "zone");
            Files.writeString(file, zone.getValue());
            conf.append("  - domain: ").append(zone.getKey()).append('\n')
                    .append("    file: ").append(file).append('\n')
                    .append("    storage: ").append(dir).append('\n');
        }
        Path confFile = dir.resolve("knot.conf");
        Files.writeString(confFile, conf);
        Process p = new ProcessBuilder(knotd.toString(), "-c", confFile.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("knotd.log").toFile())
                .start();
        KnotServer server = new KnotServer(p, new InetSocketAddress("127.0.0.1", port), dir);
        server.awaitReady(zones.keySet().iterator().next());
        return server;
    }

    /** A loopback port free for both TCP and UDP at the time of asking. */
    static int freePort() throws IOException {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(port,
                        InetAddress.getLoopbackAddress())) {
                    return port;
                } catch (IOException inUse) {
                    // try another
                }
            }
        }
        throw new IOException("no free port");
    }

    private void awaitReady(String origin) throws Exception {
        SimpleResolver r = new SimpleResolver(address);
        r.setTimeout(Duration.ofMillis(200));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("knotd exited with " + process.exitValue());
            }
            try {
                Message m = r.send(Message.newQuery(Record.newRecord(Name.fromString(origin),
                        Type.SOA, DClass.IN)));
                if (m.getRcode() == Rcode.NOERROR) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("knotd did not answer within 15 s");
    }

    /**
     * Replaces the text of zones being served and waits until knotd has loaded them (raise the
     * SOA serial, or knotd keeps the old zone).
     */
    public void update(Map<String, String> zones) throws Exception {
        for (Map.Entry<String, String> zone : zones.entrySet()) {
            Files.writeString(dir.resolve(zone.getKey() + "zone"), zone.getValue());
        }
        Process knotc = new ProcessBuilder("/usr/sbin/knotc", "-c",
                dir.resolve("knot.conf").toString(), "-b", "zone-reload")
                .redirectErrorStream(true).start();
        String out = new String(knotc.getInputStream().readAllBytes());
        if (!knotc.waitFor(15, TimeUnit.SECONDS) || knotc.exitValue() != 0) {
            throw new IllegalStateException("knotc zone-reload failed: " + out);
        }
    }

    /**
     * Freezes the server (SIGSTOP: queries go unanswered, as from a resolver that is gone) or,
     * with {@code false}, lets it go on (SIGCONT).
     */
    public void freeze(boolean frozen) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", frozen ? "-STOP" : "-CONT",
                Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("cannot signal knotd " + process.pid());
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() throws InterruptedException {
        Processes.stop(process);
    }
}
