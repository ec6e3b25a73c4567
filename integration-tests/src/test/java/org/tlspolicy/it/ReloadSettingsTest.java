package org.tlspolicy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code systemctl reload} as systemd sends it (SIGHUP to the packaged daemon), one setting at
 * a time, each seen in a lookup before and after on a connection that stays open: TLSRPT
 * attributes on, MTA-STS off, the policy hosts' extra CA gone, and a lookup timeout for the
 * connections that come after. Against {@link PolicyWorld}: knotd, unbound, HTTPS policy hosts
 * on 443 of a loopback address.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReloadSettingsTest {

    @TempDir
    Path dir;

    /** SIGHUP, then waits for the {@code n}-th "reloaded" line. */
    static void reload(DaemonProcess d, int n) throws Exception {
        d.signal("HUP");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (d.output().stream().filter(l -> l.contains("INFO reloaded config=")).count() < n
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(n, d.output().stream().filter(l -> l.contains("INFO reloaded config="))
                .count(), String.join("\n", d.output()));
    }

    @Test
    void eachSettingChangesTheNextLookup() throws Exception {
        try (PolicyWorld world = PolicyWorld.start(dir, "reload.test", 9, "127.0.4.5")) {
            int port = MailDeliveryScenarios.freePort();
            String base = world.config(port, world.dns(), dir.resolve("cache.db"), "");
            Path file = Files.writeString(dir.resolve("tlspolicyd.yml"), base);
            try (DaemonProcess d = DaemonProcess.serve(file);
                 SocketmapClient c = new SocketmapClient(port, 30_000)) {
                String sts = "OK secure match=.reload.test servername=hostname";
                assertEquals(sts, c.lookup("postfix", world.domain(1)));
                assertEquals("OK dane-only", c.lookup("postfix", world.domain(0)));

                // tlsrpt: the same cached policy, now with its TLSRPT attributes.
                Files.writeString(file, base.replace("tlsrpt: \"off\"", "tlsrpt: \"on\""));
                reload(d, 1);
                String withAttributes = c.lookup("postfix", world.domain(1));
                assertTrue(withAttributes.startsWith(sts + " policy_type=sts policy_domain="
                        + world.domain(1) + " mx_host_pattern=*.reload.test"), withAttributes);
                assertTrue(d.awaitLine("INFO reloaded", 1).contains("applied=[policy engine"),
                        String.join("\n", d.output()));

                // mta_sts.extra_ca_file gone: a policy host the JVM does not trust fails
                // (sts-webpki-invalid) for a domain not fetched before; one fetched before
                // keeps its stored policy (RFC 8461 §3.3 would not drop it either).
                Files.writeString(file, base.replace("mta_sts: {allow_private_addresses: true, "
                        + "extra_ca_file: ", "mta_sts: {allow_private_addresses: true, "
                        + "connect_timeout: 2s, extra_ca_file: \"\"}\n#"));
                reload(d, 2);
                assertEquals("NOTFOUND ", c.lookup("postfix", world.domain(2)));
                assertEquals(sts, c.lookup("postfix", world.domain(1)));
                assertTrue(d.output().stream().anyMatch(l -> l.contains("failure="
                        + "sts-webpki-invalid")), String.join("\n", d.output()));

                // mta_sts.enabled false: MTA-STS domains get no policy, DANE still decides.
                Files.writeString(file, base.replace("mta_sts: {allow_private_addresses: true, ",
                        "mta_sts: {enabled: false, allow_private_addresses: true, "));
                reload(d, 3);
                assertEquals("NOTFOUND ", c.lookup("postfix", world.domain(1)));
                assertEquals("OK dane-only", c.lookup("postfix", world.domain(0)));

                // socketmap.lookup_timeout, with a DNS server that never answers: connections
                // made from now on get TIMEOUT after it; the open one keeps the limit it was
                // accepted with (30 s), so the DNS timeout (1 s) answers it, TEMP.
                try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(
                        "127.0.0.1", 0))) {
                    Files.writeString(file, base.replace("socketmap: {listen: ",
                            "socketmap: {lookup_timeout: 300ms, listen: ").replace(world.dns(),
                            "127.0.0.1:" + silent.getLocalPort()));
                    reload(d, 4);
                    try (SocketmapClient fresh = new SocketmapClient(port, 30_000)) {
                        String r = fresh.lookup("postfix", world.domain(4));
                        assertTrue(r.startsWith("TIMEOUT "), r);
                    }
                    String old = c.lookup("postfix", world.domain(5));
                    assertTrue(old.startsWith("TEMP "), old);
                }
            }
        }
    }
}
