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
import org.tlspolicy.smtp.Mailbox;
import org.tlspolicy.testworld.TestCa;
import org.tlspolicy.tlsrpt.deliver.ReportMail;
import org.tlspolicy.tlsrpt.report.TlsReport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The units of the Debian package under a real systemd (Debian 12's 252 and Debian 13's 257,
 * as PID 1 of a container without network), the README's blocks run in order as an operator
 * pastes them: tlspolicyd starts with its whole sandbox and signals readiness, answers
 * Postfix's postmap, reloads on {@code systemctl reload}, stops cleanly; systemd rates its
 * sandbox as it runs. tlsrpt-sender: the timer's check refuses the shipped placeholders, the
 * README's key and settings pass it; a real Postfix in the container delivers a mail over TLS
 * to a second listener of its own, and the collector, under its unit, counts that session
 * from the journal and {@code status} shows it (issue 35: under ProcSubset=pid it stayed
 * active and read nothing); on Debian 13 the collector then takes Postfix 3.10's datagrams.
 * A second instance, {@code tlspolicyd@submission}, runs beside the first with its own port,
 * control socket and cache, and {@code cache}/{@code doctor --config} reach it (issue 32 §2).
 * The "Your own domains" block: the audit and publish say what the missing network keeps from
 * them, the pipe transport takes a report mail into the receiver's store (its files stay the
 * receiver's though root ran its commands), the daily rollout unit logs its advice.
 * At the end, {@code doctor} finds nothing wrong that the missing network does not explain.
 *
 * <p>The container needs CAP_SYS_ADMIN (systemd mounts) and no seccomp filter of Docker's own
 * (the units install theirs); it has no network, so nothing can leave it.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
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

    /** Runs {@code script}; returns its exit code and output, whatever the exit code. */
    private static Container.ExecResult attempt(GenericContainer<?> c, String script)
            throws Exception {
        return c.execInContainer("sh", "-c", script);
    }

    /** Polls {@code script}'s output until it contains {@code text}; returns that output. */
    private static String awaitOutput(GenericContainer<?> c, String script, String text)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String out = "";
        while (System.nanoTime() < deadline) {
            out = attempt(c, script).getStdout();
            if (out.contains(text)) {
                return out;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no '" + text + "' in the output of " + script + ":\n" + out
                + "\n" + attempt(c, "journalctl -t tlsrpt-sender --no-pager | tail -30")
                .getStdout());
    }

    /**
     * A doctor's report in which every FAIL is one the missing network explains: unbound could
     * not be installed (so resolv.conf still names what it named), and no resolver can answer
     * for the root here.
     */
    static void onlyNetworkFailures(String doctor) {
        for (String line : doctor.split("\n")) {
            if (line.startsWith("FAIL")) {
                assertTrue(line.startsWith("FAIL  resolver: ")
                        || line.startsWith("FAIL  dane.dnssec: ") && line.contains("no answer"),
                        "a FAIL the missing network does not explain: " + line + "\n" + doctor);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(PostfixRelease.class)
    void unitsRunUnderSystemd(PostfixRelease release) throws Exception {
        Path deb = DebianPackageTest.deb();
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
            // A Postfix whose own smtpd stays on 127.0.0.1 (the README's lines come with its
            // block below), and a second smtpd on 127.0.0.2 with STARTTLS that discards what
            // it gets: the MX of example.test, through a transport (no DNS here).
            Path mainCf = Files.writeString(dir.resolve("main.cf"), """
                    compatibility_level = 3.6
                    myhostname = mail.relay.test
                    alias_maps =
                    mydestination =
                    inet_interfaces = loopback-only
                    inet_protocols = ipv4
                    mynetworks = 127.0.0.0/8
                    transport_maps = inline:{example.test=smtp:[127.0.0.2]:25}
                    """ + (release.tlsrpt() ? MailWorld.readmeTlsrptLines() : ""));
            c.copyFileToContainer(MountableFile.forHostPath(mainCf), "/etc/postfix/main.cf");
            TestCa.ServerIdentity mx = TestCa.create("systemd test CA").issue("mx.example.test");
            c.copyFileToContainer(MountableFile.forHostPath(mx.writePem(dir.resolve("mx.pem"))),
                    "/etc/postfix/mx.pem");
            // (Its own name, or Postfix's smtp(8) would see a loop back to itself.)
            run(c, "postconf -M '127.0.0.2:smtp/inet=127.0.0.2:smtp inet n - y - - smtpd "
                    + "-o myhostname=mx.example.test -o smtpd_tls_security_level=may "
                    + "-o smtpd_tls_chain_files=/etc/postfix/mx.pem "
                    + "-o content_filter=discard:silently'");
            String installed = run(c, "DEBIAN_FRONTEND=noninteractive apt-get install -y "
                    + "/root/tlspolicy.deb");
            assertTrue(installed.contains("systemctl enable --now tlspolicyd"), installed);

            // README "Install": tlspolicyd, the documented production path.
            for (String command : readmeBlock("## Install")) {
                if (!command.startsWith("apt install")) {
                    run(c, command);
                }
            }
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
            // README "Point Postfix at it", in order (its apt line aside: no network here).
            String resolvConf = run(c, "cat /etc/resolv.conf");
            for (String command : readmeBlock("## Point Postfix at it")) {
                if (command.startsWith("apt install")) {
                    continue;
                }
                if (command.startsWith("tlspolicyd doctor --resolver")) {
                    // No unbound can run without network: the check says so, and resolv.conf
                    // is left alone, as the README promises.
                    Container.ExecResult r = attempt(c, command);
                    assertEquals(4, r.getExitCode(), r.getStdout() + r.getStderr());
                    assertTrue(r.getStdout().startsWith("FAIL  resolver: 127.0.0.1: no answer"),
                            r.getStdout());
                    assertEquals(resolvConf, run(c, "cat /etc/resolv.conf"));
                    continue;
                }
                run(c, command);
            }
            assertEquals("socketmap:inet:127.0.0.1:8461:postfix\n", run(c,
                    "postconf -h smtp_tls_policy_maps"));
            assertEquals("dane\n", run(c, "postconf -h smtp_tls_security_level"));
            assertEquals("1\n", run(c, "postconf -h smtp_tls_loglevel"));
            awaitState(c, "tlspolicyd", "active");
            assertTrue(run(c, "journalctl -t tlspolicyd --no-pager").contains(
                    "reloaded config=/etc/tlspolicyd/tlspolicyd.yml"), "SyslogIdentifier=");
            // README "Check that it works".
            List<String> check = readmeBlock("## Check that it works");
            Container.ExecResult show = attempt(c, check.stream().filter(l -> l.startsWith(
                    "tlspolicyd cache show")).findFirst().orElseThrow());
            // No network: DANE cannot be decided, so Postfix would be told to wait; exit 3
            // says so, as query's does.
            assertTrue(show.getStdout().startsWith("gmail.com reply=\"TEMP "), show.getStdout());
            assertEquals(3, show.getExitCode());
            // The control socket, through the sandbox (RuntimeDirectory=, PrivateUsers=).
            String list = run(c, "tlspolicyd cache list");
            assertTrue(list.startsWith("gmail.com dane indeterminate reason=\"MX lookup "
                    + "failed: "), list);
            assertEquals("srw-rw---- tlspolicyd tlspolicyd\n", run(c, "stat -c '%A %U %G' "
                    + "/run/tlspolicyd/control.sock"));
            run(c, "tlspolicyd cache purge example.org --reason 'a test'");
            assertTrue(run(c, "journalctl -u tlspolicyd --no-pager").contains("control "
                    + "action=purge domain=example.org uid=0 reason=\"a test\""));
            // BoringSSL's library loads inside the sandbox (PrivateTmp, the syscall filter).
            String journal = run(c, "journalctl -u tlspolicyd --no-pager");
            assertTrue(journal.contains("policy_fetch_tls=\"BoringSSL\""), journal);
            assertFalse(journal.contains("usable hardware address"), journal);
            // Its background threads below the socketmap loop (issue 32 §3), inside the
            // sandbox (renice(1), its syscall filter): "NICE NAME" per thread.
            String threads = awaitOutput(c, "pid=$(systemctl show -p MainPID --value "
                    + "tlspolicyd); for t in /proc/$pid/task/*; do printf '%s %s\\n' "
                    + "\"$(sed 's/.*) //' $t/stat | cut -d' ' -f17)\" \"$(cat $t/comm)\"; done",
                    "10 policy-fetch-1\n");
            assertTrue(threads.contains("\n0 epollEventLoopG\n"), threads);
            assertTrue(run(c, "journalctl -u tlspolicyd --no-pager").contains(
                    "background threads nice=10 (10 below the socketmap loop): "));
            String security = run(c, "systemd-analyze security tlspolicyd.service");
            Matcher m = SystemdUnitTest.EXPOSURE.matcher(security);
            assertTrue(m.find(), security);
            assertTrue(Double.parseDouble(m.group(1)) <= 2.0, security);
            assertFalse(journal.contains("\tat "), "no stack traces in the journal");

            // README "TLS reports", in order. First with the shipped settings: the timer's
            // check refuses the placeholders, loudly, and the collector starts.
            String enable = "systemctl enable --now tlsrpt-sender-collect "
                    + "tlsrpt-sender-send.timer";
            List<String> reports = readmeBlock("## TLS reports");
            assertTrue(reports.contains(enable), reports.toString());
            for (String command : reports) {
                if (command.startsWith("editor ")) {
                    continue; // the operator's edit comes after the placeholders' refusal
                }
                if (command.equals(enable)) {
                    Container.ExecResult refused = attempt(c, command);
                    assertTrue(refused.getExitCode() != 0, "the placeholders were accepted");
                    assertTrue(run(c, "journalctl -u tlsrpt-sender-check --no-pager").contains(
                            "FAIL  --submitter example.net is the shipped placeholder"));
                    continue;
                }
                run(c, command);
            }
            assertEquals("tlsrpt-sender 400\n", run(c, "stat -c '%U %a' "
                    + "/etc/tlsrpt-sender/dkim.pem"));
            // The operator's edit: who they are, instead of example.net.
            run(c, "sed -i -e 's/example\\.net/relay.test/g' -e \"s/'Example Org'/'Relay Org'/\" "
                    + "/etc/default/tlsrpt-sender");
            Container.ExecResult enabled = attempt(c, enable);
            assertEquals(0, enabled.getExitCode(), enabled.getStderr() + run(c,
                    "journalctl -u tlsrpt-sender-check --no-pager; cat /etc/default/tlsrpt-sender"));
            awaitState(c, "tlsrpt-sender-collect", "active");
            assertTrue(run(c, "systemctl list-timers --all --no-pager").contains(
                    "tlsrpt-sender-send.timer"));
            assertTrue(run(c, "journalctl -u tlsrpt-sender-check --no-pager").contains(
                    "ok    --smtp 127.0.0.1:25 greets: 220 "));

            // A mail over TLS, and the collector counting its session from the journal.
            run(c, "printf 'Subject: hello\\n\\nA test.\\n' | sendmail -f alice@relay.test "
                    + "bob@example.test");
            String sent = awaitOutput(c, "journalctl -t postfix/smtp --no-pager",
                    "status=sent");
            assertTrue(sent.contains("TLS connection established to 127.0.0.2[127.0.0.2]:25"),
                    sent);
            String today = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
            String status = awaitOutput(c, "tlsrpt-sender status",
                    "day=" + today + " domain=example.test successful=1 failed=0");
            assertTrue(status.startsWith("collector source=journal last_entry=" + today),
                    status);
            assertTrue(status.contains(" state=ok"), status);
            assertFalse(run(c, "journalctl -t tlsrpt-sender --no-pager").contains("waiting:"),
                    "the collector reads the journal without trouble");
            assertTrue(run(c, "journalctl -u tlsrpt-sender-check --no-pager").contains(
                    "ok    smtp_tls_loglevel: Postfix logs its TLS sessions"));

            // Postfix's default smtp_tls_loglevel (0) logs no TLS session: the mail over TLS
            // below would read as one in the clear. The collector counts nothing and says
            // why; the checks warn. Then 1 again, and counting goes on.
            run(c, "postconf -e 'smtp_tls_loglevel = 0' && postfix reload");
            run(c, "systemctl restart tlsrpt-sender-collect");
            awaitState(c, "tlsrpt-sender-collect", "active");
            run(c, "printf 'Subject: unseen\\n\\nA test.\\n' | sendmail -f alice@relay.test "
                    + "bob@example.test");
            awaitOutput(c, "journalctl -t postfix/smtp --no-pager | grep -c status=sent",
                    "2");
            String off = awaitOutput(c, "tlsrpt-sender status", "dropped_sessions=1");
            assertTrue(off.contains(" state=failing since="), off);
            assertTrue(off.contains("problem=\"counting nothing: Postfix does not log its TLS "
                    + "sessions (smtp/unix smtp_tls_loglevel = 0)"), off);
            assertTrue(off.contains("day=" + today + " domain=example.test successful=1 "
                    + "failed=0"), off);
            assertTrue(run(c, "journalctl -t tlsrpt-sender --no-pager").contains(
                    "collect source=journal \"counting nothing: Postfix does not log"));
            run(c, "systemctl restart tlsrpt-sender-check"); // a warning: it still passes
            assertTrue(run(c, "journalctl -u tlsrpt-sender-check --no-pager").contains(
                    "warn  collect --journal/--log counts nothing: Postfix does not log its "
                    + "TLS sessions (smtp/unix smtp_tls_loglevel = 0)"));
            // (Postfix 3.10 with its TLSRPT client on: doctor advises its datagrams, which
            // need no log.)
            assertEquals(!release.tlsrpt(), attempt(c, "tlspolicyd doctor").getStdout()
                    .contains("\nwarn  smtp_tls_loglevel: tlsrpt-sender collect --journal "
                            + "counts nothing: "));
            run(c, "postconf -e 'smtp_tls_loglevel = 1' && postfix reload");
            run(c, "systemctl restart tlsrpt-sender-collect");
            awaitState(c, "tlsrpt-sender-collect", "active");
            run(c, "printf 'Subject: seen\\n\\nA test.\\n' | sendmail -f alice@relay.test "
                    + "bob@example.test");
            String on = awaitOutput(c, "tlsrpt-sender status",
                    "day=" + today + " domain=example.test successful=2 failed=0");
            assertTrue(on.contains(" state=ok"), on);

            if (release.tlsrpt()) {
                // Postfix 3.10's own datagrams instead of the journal.
                run(c, "sed -i 's|^TLSRPT_COLLECT_ARGS=.*|TLSRPT_COLLECT_ARGS=\"--datagram-socket "
                        + DATAGRAM_SOCKET + " --own-sender tlsrpt-noreply@relay.test\"|' "
                        + "/etc/default/tlsrpt-sender");
                run(c, "systemctl restart tlsrpt-sender-collect");
                awaitState(c, "tlsrpt-sender-collect", "active");
                awaitOutput(c, "ls " + DATAGRAM_SOCKET + " 2>/dev/null || true", "tlsrpt.sock");
                // The package made the directory; the collector's socket is smtp(8)'s to write.
                assertEquals("tlsrpt-sender postfix 2750\n", run(c,
                        "stat -c '%U %G %a' /var/spool/postfix/run/tlsrpt"));
                assertEquals("tlsrpt-sender postfix 660\n", run(c,
                        "stat -c '%U %G %a' " + DATAGRAM_SOCKET));
            }
            String doctor = attempt(c, "tlspolicyd doctor").getStdout();
            // The daemon systemd started answers where the shipped config says.
            assertTrue(doctor.contains("\nok    listener: answers on inet:127.0.0.1:8461 "
                    + "(map postfix)\n"), doctor);
            assertTrue(doctor.startsWith("ok    config: /etc/tlspolicyd/tlspolicyd.yml\n"),
                    doctor);
            onlyNetworkFailures(doctor);
            if (release.tlsrpt()) {
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

            // A second instance (issue 32 §2): tlspolicyd@submission on its own file, port,
            // control socket and cache; cache and doctor reach it through --config, and the
            // first instance keeps its own.
            run(c, "printf 'socketmap: {listen: [\"127.0.0.1:8471\"]}\\n' > "
                    + "/etc/tlspolicyd/submission.yml && systemctl enable --now "
                    + "tlspolicyd@submission");
            awaitState(c, "tlspolicyd@submission", "active");
            assertEquals("srw-rw---- tlspolicyd tlspolicyd\nsrw-rw---- tlspolicyd tlspolicyd\n",
                    run(c, "stat -c '%A %U %G' /run/tlspolicyd/control.sock "
                            + "/run/tlspolicyd-submission/control.sock"));
            Container.ExecResult second = attempt(c, "postmap -q gmail.com "
                    + "socketmap:inet:127.0.0.1:8471:postfix");
            // It answers (TEMP: no network to resolve in here), as the first one does.
            assertTrue(second.getStderr().contains("socketmap:inet:127.0.0.1:8471:postfix "
                    + "socketmap server temporary error: DNS lookup failed"), second.getStderr());
            run(c, "tlspolicyd cache --config /etc/tlspolicyd/submission.yml purge example.net "
                    + "--reason 'second instance'");
            assertTrue(run(c, "journalctl -u tlspolicyd@submission --no-pager").contains(
                    "control action=purge domain=example.net uid=0 reason=\"second instance\""));
            assertFalse(run(c, "journalctl -u tlspolicyd --no-pager").contains(
                    "second instance"), "the first instance was not asked");
            assertTrue(run(c, "tlspolicyd cache list").contains("gmail.com"),
                    "the first instance still answers on its own socket");
            String doctorSecond = attempt(c, "tlspolicyd doctor --config "
                    + "/etc/tlspolicyd/submission.yml").getStdout();
            assertTrue(doctorSecond.contains("\nok    listener: answers on inet:127.0.0.1:8471 "
                    + "(map postfix)\n"), doctorSecond);
            run(c, "test -f /var/lib/tlspolicyd-submission/cache.db");
            run(c, "systemctl stop tlspolicyd@submission");

            // README "Your own domains", in order. No network here: the audit fails on DNS and
            // says so, publish finds no MX records; the rest works as it would online.
            List<String> own = readmeBlock("## Your own domains");
            for (String command : own) {
                if (command.startsWith("tlspolicyd audit ")) {
                    Container.ExecResult audit = attempt(c, command);
                    assertEquals(2, audit.getExitCode(), audit.getStdout() + audit.getStderr());
                    assertTrue(audit.getStdout().contains("\nexample.com  FAIL\n"),
                            audit.getStdout());
                } else if (command.startsWith("tlsrpt-receiver publish ")) {
                    Container.ExecResult publish = attempt(c, command);
                    assertEquals(1, publish.getExitCode(), publish.getStdout());
                    assertTrue(publish.getStderr().contains("no MX records for example.com"),
                            publish.getStderr());
                } else if (command.startsWith("editor ")) {
                    run(c, "sed -i 's/^TLSRPT_RECEIVER_DOMAINS=.*/TLSRPT_RECEIVER_DOMAINS="
                            + "\"example.com\"/' /etc/default/tlsrpt-receiver");
                } else if (command.startsWith("tlsrpt-receiver rollout ")) {
                    assertTrue(run(c, command).startsWith("example.com: publish\n"));
                } else if (command.equals("tlsrpt-receiver summary")) {
                    assertTrue(run(c, command).startsWith("no reports since "));
                } else {
                    run(c, command);
                }
            }
            // The timer's service, run now: the advice in the journal, the audit kept.
            run(c, "systemctl start tlsrpt-receiver-rollout || { journalctl -u "
                    + "tlsrpt-receiver-rollout --no-pager; exit 1; }");
            assertTrue(run(c, "journalctl -u tlsrpt-receiver-rollout --no-pager").contains(
                    "example.com: publish"));
            // A report mail to the rua address, through Postfix's pipe into the store, which
            // stays the receiver's (the root-run commands above ran as it too).
            TlsReport report = ReceiverPipeTest.report(java.time.LocalDate.now(
                    java.time.ZoneOffset.UTC).minusDays(1));
            Files.write(dir.resolve("report.eml"), ReportMail.build(report,
                    ReceiverPipeTest.SUBMITTER, Mailbox.parse("tlsrpt-noreply@sender.test"),
                    Mailbox.parse("tlsrpt@example.com"), java.time.Instant.now()));
            c.copyFileToContainer(MountableFile.forHostPath(dir.resolve("report.eml")),
                    "/root/report.eml");
            run(c, "sendmail -i -f tlsrpt-noreply@sender.test -t < /root/report.eml");
            String summary = "";
            for (int i = 0; i < 120 && !summary.contains("example.net: 4711 successful, 41 "
                    + "failed sessions"); i++) {
                Thread.sleep(500);
                summary = attempt(c, "tlsrpt-receiver summary").getStdout();
            }
            assertTrue(summary.contains("example.net: 4711 successful, 41 failed sessions"),
                    summary + attempt(c, "journalctl --no-pager | grep -E "
                            + "'postfix/(pipe|qmgr|bounce|error)|status=' | tail -40; "
                            + "postqueue -p").getStdout());
            assertTrue(summary.contains("0 DKIM-authenticated"), summary);
            assertEquals("tlsrpt-receiver tlsrpt-receiver\n", run(c, "stat -c '%U %G' "
                    + "/var/lib/tlsrpt-receiver/reports.db* | sort -u"));

            // Stops are clean: SIGTERM's 143 counts as success.
            run(c, "systemctl stop tlsrpt-sender-collect tlspolicyd");
            if (release.tlsrpt()) {
                String stopped = attempt(c, "tlspolicyd doctor").getStdout();
                assertTrue(stopped.contains("\nFAIL  tlsrpt source: no socket at "
                        + DATAGRAM_SOCKET + ": Postfix's TLSRPT datagrams are lost"), stopped);
            }
            assertEquals("Result=success\n", run(c, "systemctl show -p Result tlspolicyd"));
            assertEquals("Result=success\n", run(c,
                    "systemctl show -p Result tlsrpt-sender-collect"));
        }
    }
}
