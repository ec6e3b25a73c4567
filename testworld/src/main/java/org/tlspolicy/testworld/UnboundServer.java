package org.tlspolicy.testworld;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's unbound, a real recursive resolver, started by a test on 127.0.0.1 and stopped when
 * closed. It knows no root servers: every zone it may ask about is a stub zone served by the
 * test's knotd, and everything else is sent to knotd as well, which refuses it, so no query
 * ever leaves loopback. scripts/test installs the unbound package.
 *
 * <p>Two kinds: {@link #validating} (DNSSEC validation against the given trust anchors, the AD
 * bit on secure answers, SERVFAIL with an Extended DNS Error on bogus ones: what {@code dnssec:
 * resolver} trusts) and {@link #iterating} (no validation, DNSSEC records passed through: the
 * kind of upstream {@code dnssec: validate} works with).
 */
public final class UnboundServer implements AutoCloseable {

    private final Process process;
    private final InetSocketAddress address;

    private UnboundServer(Process process, InetSocketAddress address) {
        this.process = process;
        this.address = address;
    }

    /**
     * A validating resolver trusting {@code trustAnchors} (DS or DNSKEY lines), with each of
     * {@code stubZones} served by {@code authority}, and each of {@code refusedZones} sent there
     * too, where they are refused (so unbound answers SERVFAIL).
     */
    public static UnboundServer validating(Path dir, InetSocketAddress authority,
                                           List<String> stubZones, String trustAnchors,
                                           List<String> refusedZones) throws Exception {
        return start(dir, null, authority, stubZones, trustAnchors, refusedZones);
    }

    /**
     * As {@link #validating(Path, InetSocketAddress, List, String, List)}, listening at {@code
     * listen}: port 53 of a loopback address of its own, for programs that find their resolver
     * in resolv.conf (which has no port), such as Postfix.
     */
    public static UnboundServer validating(Path dir, InetSocketAddress listen,
                                           InetSocketAddress authority, List<String> stubZones,
                                           String trustAnchors, List<String> refusedZones)
            throws Exception {
        return start(dir, listen, authority, stubZones, trustAnchors, refusedZones);
    }

    /**
     * A resolver that does not validate, with each of {@code stubZones} served by {@code
     * authority}, and each of {@code refusedZones} sent there too, where they are refused (so
     * unbound answers SERVFAIL).
     */
    public static UnboundServer iterating(Path dir, InetSocketAddress authority,
                                          List<String> stubZones, List<String> refusedZones)
            throws Exception {
        return start(dir, null, authority, stubZones, null, refusedZones);
    }

    /**
     * As {@link #iterating(Path, InetSocketAddress, List, List)}, listening at {@code listen}
     * (port 53 of a loopback address of its own, for a resolv.conf).
     */
    public static UnboundServer iterating(Path dir, InetSocketAddress listen,
                                          InetSocketAddress authority, List<String> stubZones)
            throws Exception {
        return start(dir, listen, authority, stubZones, null, List.of());
    }

    private static UnboundServer start(Path dir, InetSocketAddress listen,
                                       InetSocketAddress authority,
                                       List<String> stubZones, String trustAnchors,
                                       List<String> refusedZones) throws Exception {
        Path unbound = Path.of("/usr/sbin/unbound");
        if (!Files.isExecutable(unbound)) {
            throw new IllegalStateException("/usr/sbin/unbound is missing: install Debian's "
                    + "unbound package (scripts/test does)");
        }
        Files.createDirectories(dir);
        InetSocketAddress address = listen != null ? listen
                : new InetSocketAddress("127.0.0.1", KnotServer.freePort());
        String stubAddr = authority.getAddress().getHostAddress() + "@" + authority.getPort();
        StringBuilder conf = new StringBuilder()
                .append("server:\n")
                .append("  interface: ").append(address.getAddress().getHostAddress())
                .append('\n')
                .append("  port: ").append(address.getPort()).append('\n')
                .append("  do-ip6: no\n")
                .append("  do-not-query-localhost: no\n") // knotd is on loopback
                .append("  username: \"\"\n  chroot: \"\"\n")
                .append("  directory: \"").append(dir).append("\"\n")
                .append("  pidfile: \"").append(dir.resolve("unbound.pid")).append("\"\n")
                .append("  use-syslog: no\n  logfile: \"\"\n  verbosity: 1\n")
                .append("  num-threads: 1\n  so-reuseport: no\n")
                .append("  access-control: 127.0.0.0/8 allow\n")
                // A resolver for containers on a network of the test's: its /24 too.
                .append(address.getAddress().isLoopbackAddress() ? "" : "  access-control: "
                        + address.getAddress().getHostAddress().replaceAll("\\.\\d+$", ".0/24")
                        + " allow\n")
                .append("  qname-minimisation: no\n")
                // Cached answers would hide a zone the test has just changed.
                .append("  cache-max-ttl: 0\n  cache-max-negative-ttl: 0\n")
                .append("  ede: yes\n  val-log-level: 2\n")
                // RFC 6761 names that unbound answers itself (NXDOMAIN) unless told not to: the
                // test worlds live under test.
                .append("  local-zone: \"test.\" nodefault\n")
                .append("  local-zone: \"invalid.\" nodefault\n");
        if (trustAnchors != null) {
            Path anchors = dir.resolve("anchors");
            Files.writeString(anchors, trustAnchors);
            conf.append("  module-config: \"validator iterator\"\n")
                    .append("  trust-anchor-file: \"").append(anchors).append("\"\n");
        } else {
            conf.append("  module-config: \"iterator\"\n");
        }
        conf.append("remote-control:\n  control-enable: no\n");
        // The root too: without it unbound would prime from the real root servers.
        List<String> zones = concat(".", stubZones);
        zones.addAll(refusedZones);
        for (String zone : zones) {
            conf.append("stub-zone:\n  name: \"").append(zone).append("\"\n")
                    .append("  stub-addr: ").append(stubAddr).append('\n');
        }
        Path confFile = dir.resolve("unbound.conf");
        Files.writeString(confFile, conf);
        Process p = new ProcessBuilder(unbound.toString(), "-d", "-c", confFile.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("unbound.log").toFile())
                .start();
        UnboundServer server = new UnboundServer(p, address);
        server.awaitReady(stubZones.isEmpty() ? "." : stubZones.get(0), dir);
        return server;
    }

    private static List<String> concat(String first, List<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }

    private void awaitReady(String zone, Path dir) throws Exception {
        SimpleResolver r = new SimpleResolver(address);
        r.setTimeout(Duration.ofMillis(500));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("unbound exited with " + process.exitValue()
                        + ": " + Files.readString(dir.resolve("unbound.log")));
            }
            try {
                r.send(Message.newQuery(Record.newRecord(Name.fromString(zone), Type.SOA,
                        DClass.IN)));
                return; // any answer: it is serving
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("unbound did not answer within 15 s");
    }

    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() throws InterruptedException {
        Processes.stop(process);
    }
}
