package org.tlspolicy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.KnotServer;
import org.tlspolicy.testworld.UnboundServer;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 35, §2: the README installs unbound and points /etc/resolv.conf at it after tlspolicyd
 * started; {@code systemctl reload} must switch the daemon to it, and say so. The daemon runs in
 * a mount namespace of its own whose /etc/resolv.conf is a file of the test's (the host's is
 * never touched): first naming 127.0.55.1, where nothing answers, then 127.0.55.2, a real
 * unbound in front of knotd.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ResolvConfReloadTest {

    @TempDir
    Path dir;

    @Test
    void aReloadPicksUpAChangedResolvConfAndSaysSo() throws Exception {
        try (KnotServer knot = KnotServer.start(Files.createDirectories(dir.resolve("knot")),
                Map.of("test.", """
                        $ORIGIN test.
                        $TTL 60
                        @ SOA ns.test. hostmaster.test. 1 3600 900 604800 60
                        @ NS ns.test.
                        ns A 127.0.0.1
                        rc MX 10 mx.rc
                        mx.rc A 127.0.0.1
                        """));
             UnboundServer unbound = UnboundServer.iterating(dir.resolve("unbound"),
                     new InetSocketAddress("127.0.55.2", 53), knot.address(),
                     List.of("test."))) {
            Path resolvConf = Files.writeString(dir.resolve("resolv.conf"),
                    "nameserver 127.0.55.1\n");
            int port = MailDeliveryScenarios.freePort();
            Path config = Files.writeString(dir.resolve("tlspolicyd.yml"), """
                    socketmap: {listen: ["127.0.0.1:%d"]}
                    dns: {timeout: 500ms, attempts: 1}
                    mta_sts: {enabled: false}
                    dane: {dnssec: resolver}
                    cache: {path: ""}
                    control: {socket: "%s"}
                    tlsrpt: "off"
                    """.formatted(port, dir.resolve("control.sock")));
            // A mount namespace of its own: /etc/resolv.conf there is the test's file.
            List<String> namespace = List.of("unshare", "--mount", "--propagation", "private",
                    "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"",
                    resolvConf.toString());
            try (DaemonProcess d = DaemonProcess.serve(config, namespace);
                 SocketmapClient c = new SocketmapClient(port, 30_000)) {
                String before = c.lookup("postfix", "rc.test");
                assertTrue(before.startsWith("TEMP ") && before.contains("127.0.55.1:53 "
                        + "(/etc/resolv.conf)"), before);
                Files.writeString(resolvConf, "nameserver 127.0.55.2\n"); // the same inode
                d.signal("HUP");
                String reloaded = d.awaitLine("INFO reloaded config=", 30);
                assertTrue(reloaded.contains("resolvers now 127.0.55.2:53 (/etc/resolv.conf), "
                        + "were 127.0.55.1:53 (/etc/resolv.conf)"), reloaded);
                assertTrue(reloaded.contains("dane=none"), "the old resolver's failures are "
                        + "not kept: " + reloaded);
                assertEquals("NOTFOUND ", c.lookup("postfix", "rc.test"));
            }
        }
    }
}
