package org.tlspolicy.it;

import com.github.dockerjava.api.model.Capability;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The units of the Debian package under a real systemd (Debian 12's 252 and Debian 13's 257,
 * as PID 1 of a container without network): tlspolicyd starts with its whole sandbox and signals readiness,
 * answers Postfix's postmap, reloads on {@code systemctl reload}, stops cleanly; systemd rates
 * its sandbox as it runs; tlsrpt-sender's collector runs against the journal, the sender's
 * oneshot succeeds reading its DKIM key, and the timer is scheduled.
 *
 * <p>The container needs CAP_SYS_ADMIN (systemd mounts) and no seccomp filter of Docker's own
 * (the units install theirs); it has no network, so nothing can leave it.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SystemdRunTest {

    private static final String DATAGRAM_SOCKET = "/var/spool/postfix/run/tlsrpt/tlsrpt.sock";

    @TempDir
    Path dir;


    private static String run(GenericContainer<?> c, String script) throws Exception {
        return ContainerShell.run(c, script);
    }

    /**
     * The commands of the first sh block after {@code heading} in README.md, continuation
     * lines joined, comments and blank lines left out.
     */
    static List<String> readmeBlock(String heading) throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        int at = readme.indexOf("\n" + heading + "\n");
        assertTrue(at >= 0, heading);
        int from = readme.indexOf("```sh\n", at) + 6;
        String block = readme.substring(from, readme.indexOf("```", from))
                .replace("\\\n", " ");
        List<String> out = new java.util.ArrayList<>();
        for (String line : block.split("\n")) {
            String command = line.replaceAll("\\s+#.*", "").strip();
            if (!command.isEmpty() && !command.startsWith("#")) {
                out.add(command);
            }
        }
        return out;
    }

    /** Polls {@code systemctl is-active UNIT} until it says {@code state}. */
    private static void awaitState(GenericContainer<?> c, String unit, String state)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String now = "";
        while (System.nanoTime() < deadline) {
            now = c.execInContainer("systemctl", "is-active", unit).getStdout().strip();
            if (now.equals(state)) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError(unit + " is " + now + ", not " + state + ":\n"
                + c.execInContainer("journalctl", "-u", unit, "--no-pager").getStdout());
    }

    @ParameterizedTest
    @EnumSource(PostfixRelease.class)
    void unitsRunUnderSystemd(PostfixRelease release) throws Exception {
        Path deb = DebianPackageTest.deb();
        var keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path key = Files.writeString(dir.resolve("dkim.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(
                keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(
                release.systemdTestImage()))
                .withNetworkMode("none")
                .withTmpFs(Map.of("/run", "", "/run/lock", ""))
                .withFileSystemBind("/sys/fs/cgroup", "/sys/fs/cgroup", BindMode.READ_ONLY)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withCapAdd(Capability.SYS_ADMIN)
                        .withSecurityOpts(List.of("seccomp=unconfined", "apparmor=unconfined")))
                // Not /tmp: systemd-tmpfiles empties it at boot.
                .withCopyFileToContainer(MountableFile.forHostPath(deb), "/root/tlspolicy.deb")
                .waitingFor(ContainerShell.noWait())) {
            c.start();
            // Up when systemd says so ("degraded" too: Postfix has no main.cf yet). Until its
            // bus exists, systemctl fails at once, --wait or not: ask until it answers.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String state = "";
            while (!state.equals("running") && !state.equals("degraded")
                    && System.nanoTime() < deadline) {
                Thread.sleep(250);
                state = c.execInContainer("systemctl", "is-system-running").getStdout().strip();
            }
            assertTrue(state.equals("running") || state.equals("degraded"), state);
            assertEquals("systemd", run(c, "cat /proc/1/comm").strip());
            // The README's main.cf lines (for Postfix 3.10 with its TLSRPT client on).
            Path mainCf = Files.writeString(dir.resolve("main.cf"), "myhostname = "
                    + "mail.example.net\n" + Files.readString(Path.of("../postfix-conf/main.cf"))
                    + (release.tlsrpt() ? MailWorld.readmeTlsrptLines() : ""));
            c.copyFileToContainer(MountableFile.forHostPath(mainCf), "/etc/postfix/main.cf");
            run(c, "DEBIAN_FRONTEND=noninteractive apt-get install -y /root/tlspolicy.deb");

            // tlspolicyd: the documented production path.
            run(c, "systemctl enable --now tlspolicyd");
            awaitState(c, "tlspolicyd", "active"); // Type=notify: active once READY=1
            Container.ExecResult q = c.execInContainer("postmap", "-q", "[mx.example.com]:25",
                    "socketmap:inet:127.0.0.1:8461:postfix");
            assertEquals(1, q.getExitCode(), "NOTFOUND: " + q.getStdout() + q.getStderr());
            assertEquals("", q.getStderr());
            assertEquals("tlspolicyd", run(c, "ps_user() { stat -c %U /proc/$1; }; "
                    + "ps_user $(systemctl show -p MainPID --value tlspolicyd)").strip());
            // No network in here: DNSSEC validation cannot work, and systemd shows it.
            String statusText = "";
            for (int i = 0; i < 60 && !statusText.startsWith("PROBLEM: DNSSEC validation "
                    + "fails"); i++) {
                Thread.sleep(500);
                statusText = run(c, "systemctl show -p StatusText --value tlspolicyd").strip();
            }
            assertTrue(statusText.startsWith("PROBLEM: DNSSEC validation fails (. SOA "),
                    statusText);
            run(c, "systemctl reload tlspolicyd");
            awaitState(c, "tlspolicyd", "active");
            // README's "Point Postfix at it" (but its apt line: no network in here) and its
            // "Check that it works", as an operator pastes them.
            for (String command : readmeBlock("## Point Postfix at it")) {
                if (!command.startsWith("apt install")) {
                    run(c, command);
                }
            }
            assertEquals("socketmap:inet:127.0.0.1:8461:postfix\n", run(c,
                    "postconf -h smtp_tls_policy_maps"));
            assertEquals("dane\n", run(c, "postconf -h smtp_tls_security_level"));
            List<String> check = readmeBlock("## Check that it works");
            String show = run(c, check.stream().filter(l -> l.startsWith("tlspolicyd cache "
                    + "show")).findFirst().orElseThrow().replaceAll("\\s+#.*", ""));
            // No network: DANE cannot be decided, so Postfix would be told to wait.
            assertTrue(show.startsWith("gmail.com reply=\"TEMP "), show);
            // The control socket, through the sandbox (RuntimeDirectory=, PrivateUsers=).
            // What the README's "cache show gmail.com" left: DNS failed (no network here).
            String list = run(c, "tlspolicyd cache list");
            assertTrue(list.startsWith("gmail.com dane indeterminate reason=\"MX lookup "
                    + "failed: transport: "), list);
            assertEquals("srw-rw---- tlspolicyd tlspolicyd\n", run(c, "stat -c '%A %U %G' "
                    + "/run/tlspolicyd/control.sock"));
            run(c, "tlspolicyd cache purge example.org --reason 'a test'");
            assertTrue(run(c, "journalctl -u tlspolicyd --no-pager").contains("control "
                    + "action=purge domain=example.org uid=0 reason=\"a test\""));
            assertTrue(run(c, "journalctl -u tlspolicyd --no-pager").contains(
                    "reloaded config=/etc/tlspolicyd/tlspolicyd.yml"));
            // BoringSSL's library loads inside the sandbox (PrivateTmp, the syscall filter).
            assertTrue(run(c, "journalctl -u tlspolicyd --no-pager").contains(
                    "policy_fetch_tls=\"BoringSSL\""), run(c, "journalctl -u tlspolicyd "
                    + "--no-pager | grep started"));
            String security = run(c, "systemd-analyze security tlspolicyd.service");
            Matcher m = SystemdUnitTest.EXPOSURE.matcher(security);
            assertTrue(m.find(), security);
            assertTrue(Double.parseDouble(m.group(1)) <= 2.0, security);
            assertFalse(run(c, "journalctl -u tlspolicyd --no-pager").contains("\tat "),
                    "no stack traces in the journal");

            // tlsrpt-sender: collector, sender (with its DKIM key), timer.
            run(c, "mkdir -p /etc/tlsrpt-sender");
            c.copyFileToContainer(MountableFile.forHostPath(key), "/etc/tlsrpt-sender/dkim.pem");
            run(c, "chgrp tlsrpt-sender /etc/tlsrpt-sender/dkim.pem; "
                    + "chmod 640 /etc/tlsrpt-sender/dkim.pem; "
                    + "cat > /etc/default/tlsrpt-sender <<'E'\n"
                    + "TLSRPT_COLLECT_ARGS=\"" + (release.tlsrpt()
                    ? "--datagram-socket " + DATAGRAM_SOCKET : "--journal --own-sender "
                    + "tlsrpt@example.net") + "\"\n"
                    + "TLSRPT_SEND_ARGS=\"--organization 'Example Org' --contact "
                    + "mailto:postmaster@example.net --submitter example.net --from "
                    + "tlsrpt@example.net --dkim-key /etc/tlsrpt-sender/dkim.pem "
                    + "--dns 127.0.0.1:9\"\nE");
            run(c, "systemctl start tlsrpt-sender-collect");
            awaitState(c, "tlsrpt-sender-collect", "active");
            Thread.sleep(3000);
            awaitState(c, "tlsrpt-sender-collect", "active"); // still running, reading
            String doctor = run(c, "tlspolicyd doctor || true");
            // The daemon systemd started answers where the shipped config says.
            assertTrue(doctor.contains("\nok    listener: answers on inet:127.0.0.1:8461 "
                    + "(map postfix)\n"), doctor);
            if (release.tlsrpt()) {
                // The package made the directory; the collector's socket is smtp(8)'s to write.
                assertEquals("tlsrpt-sender postfix 2750\n", run(c,
                        "stat -c '%U %G %a' /var/spool/postfix/run/tlsrpt"));
                assertEquals("tlsrpt-sender postfix 660\n", run(c,
                        "stat -c '%U %G %a' " + DATAGRAM_SOCKET));
                assertTrue(doctor.contains("\nok    tlsrpt source: Postfix's TLSRPT datagrams on "
                        + DATAGRAM_SOCKET + ", received by a collector\n"), doctor);
                assertTrue(doctor.contains("\nok    smtp_tls_enforce_sts_mx_patterns: yes: "),
                        doctor);
                assertTrue(doctor.contains("\nok    tlsrpt: auto: attributes sent (Postfix 3.10."),
                        doctor);
            } else {
                assertTrue(doctor.contains("\nok    tlsrpt source: Postfix 3.7."), doctor);
                assertTrue(doctor.contains(" only logs TLS outcomes: collect them with "
                        + "tlsrpt-sender collect --journal"), doctor);
            }
            run(c, "systemctl start tlsrpt-sender-send || { journalctl -u "
                    + "tlsrpt-sender-send --no-pager; exit 1; }");
            assertEquals("Result=success\n", run(c,
                    "systemctl show -p Result tlsrpt-sender-send"));
            assertTrue(run(c, "journalctl -u tlsrpt-sender-send --no-pager").contains(
                    "send planned=0 sent=0"));
            run(c, "systemctl enable --now tlsrpt-sender-send.timer");
            assertTrue(run(c, "systemctl list-timers --all --no-pager").contains(
                    "tlsrpt-sender-send.timer"));

            // Stops are clean: SIGTERM's 143 counts as success.
            run(c, "systemctl stop tlsrpt-sender-collect tlspolicyd");
            if (release.tlsrpt()) {
                String stopped = run(c, "tlspolicyd doctor || true");
                assertTrue(stopped.contains("\nFAIL  tlsrpt source: no socket at "
                        + DATAGRAM_SOCKET + ": Postfix's TLSRPT datagrams are lost"), stopped);
            }
            assertEquals("Result=success\n", run(c, "systemctl show -p Result tlspolicyd"));
            assertEquals("Result=success\n", run(c,
                    "systemctl show -p Result tlsrpt-sender-collect"));
        }
    }
}
