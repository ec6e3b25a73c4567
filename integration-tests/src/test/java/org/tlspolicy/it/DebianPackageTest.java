package org.tlspolicy.it;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Debian package, installed, upgraded and purged with apt and dpkg in a clean Debian 12
 * and a clean Debian 13 (containers of the end-to-end suite's Postfix images with the release's
 * default JRE added, 17 and 21, so that no network is needed): files, users and conffiles where they belong, the installed commands run, the
 * installed daemon answers Postfix's postmap as its own user, main.cf is never touched, an
 * operator's change to a conffile survives an upgrade, and purge removes state and
 * configuration. systemd does not run in the container: the units' enabling is not tested here.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DebianPackageTest {

    static Path deb() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("..", "debian-package", "target"))) {
            return files.filter(f -> f.getFileName().toString().endsWith("_all.deb"))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no .deb in "
                            + "debian-package/target: run mvn verify from the top"));
        }
    }


    private static String run(GenericContainer<?> c, String script) throws Exception {
        return ContainerShell.run(c, script);
    }

    @ParameterizedTest
    @EnumSource(PostfixRelease.class)
    void installUpgradeAndPurge(PostfixRelease release) throws Exception {
        try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(
                release.packageTestImage()))
                .withNetworkMode("host")
                .withCopyFileToContainer(MountableFile.forHostPath(deb()), "/tmp/tlspolicy.deb")
                .waitingFor(ContainerShell.noWait())) {
            c.start();
            // An operator's main.cf, to see that the package leaves it alone.
            run(c, "printf 'myhostname = mail.example.net\\n' > /etc/postfix/main.cf; "
                    + "sha256sum /etc/postfix/main.cf > /root/main.cf.sum");

            // Install: the documented production path.
            run(c, "DEBIAN_FRONTEND=noninteractive apt-get install -y "
                    + "/tmp/tlspolicy.deb");
            assertEquals("install ok installed 0.1.0~SNAPSHOT", run(c,
                    "dpkg-query -W -f='${Status} ${Version}' tlspolicy"));
            for (String path : new String[] {"/usr/share/tlspolicyd/tlspolicyd.jar",
                "/usr/share/tlsrpt-sender/tlsrpt-sender.jar", "/usr/bin/tlspolicyd",
                "/usr/bin/tlsrpt-sender", "/lib/systemd/system/tlspolicyd.service",
                "/lib/systemd/system/tlsrpt-sender-collect.service",
                "/lib/systemd/system/tlsrpt-sender-send.service",
                "/lib/systemd/system/tlsrpt-sender-send.timer",
                "/lib/systemd/system/tlsrpt-sender-check.service", "/etc/tlspolicyd/tlspolicyd.yml",
                "/etc/default/tlsrpt-sender", "/usr/share/doc/tlspolicy/examples/main.cf",
                "/usr/share/tlsrpt-receiver/tlsrpt-receiver.jar", "/usr/bin/tlsrpt-receiver",
                "/lib/systemd/system/tlsrpt-receiver-listen.service",
                "/lib/systemd/system/tlsrpt-receiver-rollout.service",
                "/lib/systemd/system/tlsrpt-receiver-rollout.timer",
                "/etc/default/tlsrpt-receiver",
                "/usr/share/doc/tlspolicy/examples/tlsrpt-receiver.master.cf",
                "/usr/lib/tlsrpt-receiver/spool", "/lib/systemd/system/tlspolicyd@.service",
                "/lib/systemd/system/tlsrpt-receiver-ingest.path",
                "/lib/systemd/system/tlsrpt-receiver-ingest.service"}) {
                run(c, "test -f " + path);
            }
            assertEquals("/etc/tlspolicyd/tlspolicyd.yml\n/etc/default/tlsrpt-sender\n"
                    + "/etc/default/tlsrpt-receiver\n", run(c, "cat /var/lib/dpkg/info/"
                    + "tlspolicy.conffiles"));
            for (String user : new String[] {"tlspolicyd", "tlsrpt-sender", "tlsrpt-receiver"}) {
                String entry = run(c, "getent passwd " + user);
                assertTrue(entry.contains(":/var/lib/" + user + ":/usr/sbin/nologin"), entry);
            }
            run(c, "sha256sum -c /root/main.cf.sum");
            // Where Postfix 3.10's TLSRPT client finds the collector (main.cf's
            // smtp_tlsrpt_socket_name = run/tlsrpt/tlsrpt.sock): its socket there is postfix's.
            assertEquals("tlsrpt-sender postfix 2750\n", run(c,
                    "stat -c '%U %G %a' /var/spool/postfix/run/tlsrpt"));
            // The DKIM key's directory; man pages, the changelog and the manual.
            assertEquals("root tlsrpt-sender 750\n", run(c,
                    "stat -c '%U %G %a' /etc/tlsrpt-sender"));
            // The reports received and the quarantine: the receiver's, its group may read.
            assertEquals("tlsrpt-receiver tlsrpt-receiver 750\n".repeat(3), run(c,
                    "stat -c '%U %G %a' /var/lib/tlsrpt-receiver "
                    + "/var/lib/tlsrpt-receiver/quarantine /var/lib/tlsrpt-receiver/spool/new"));
            assertTrue(run(c, "zcat /usr/share/man/man8/tlsrpt-receiver.8.gz").contains(
                    "tlsrpt-receiver \\- takes in the RFC 8460 TLS reports"));
            assertTrue(run(c, "tlsrpt-receiver --help").contains("rollout"));
            assertTrue(run(c, "zcat /usr/share/man/man8/tlspolicyd.8.gz").contains(
                    "tlspolicyd \\- MTA-STS and DANE policy daemon for Postfix"));
            assertTrue(run(c, "zcat /usr/share/man/man8/tlsrpt-sender.8.gz").contains(
                    "tlsrpt-sender \\- RFC 8460 TLS reports"));
            assertTrue(run(c, "zcat /usr/share/doc/tlspolicy/changelog.Debian.gz")
                    .startsWith("tlspolicy (0.1.0~SNAPSHOT) unstable; urgency=medium\n"));
            run(c, "test -s /usr/share/doc/tlspolicy/docs/operations.md");
            assertEquals("Local package build <root@localhost>\n", run(c,
                    "dpkg-query -W -f='${Maintainer}\\n' tlspolicy"));
            assertTrue(run(c, "tlspolicyd --version").startsWith("tlspolicyd"));
            assertTrue(run(c, "tlsrpt-sender --help").contains("collect"));

            // The installed daemon, as its own user, on a configuration an operator changed
            // (DNS kept inside the test world), answers Postfix's postmap.
            run(c, "cat >> /etc/tlspolicyd/tlspolicyd.yml <<'EOF'\n"
                    + "socketmap: {listen: [\"127.0.0.1:18461\"]}\n"
                    + "dns: {servers: [\"127.0.0.1:9\"], timeout: 200ms, attempts: 1}\n"
                    + "EOF\n"
                    + "install -d -o tlspolicyd -g tlspolicyd /var/lib/tlspolicyd");
            run(c, "runuser -u tlspolicyd -- tlspolicyd serve --config "
                    + "/etc/tlspolicyd/tlspolicyd.yml > /tmp/daemon.log 2>&1 &\n"
                    + "echo $! > /tmp/daemon.pid\n"
                    + "for i in $(seq 1 100); do grep -q 'started' /tmp/daemon.log && exit 0; "
                    + "sleep 0.2; done; cat /tmp/daemon.log; exit 1");
            Container.ExecResult q = c.execInContainer("postmap", "-q", "[mx.example.com]:25",
                    "socketmap:inet:127.0.0.1:18461:postfix");
            assertEquals(1, q.getExitCode(), "NOTFOUND: " + q.getStdout() + q.getStderr());
            assertEquals("", q.getStderr(), "a clean NOTFOUND, no lookup error");
            run(c, "test -f /var/lib/tlspolicyd/cache.db; "
                    + "test \"$(stat -c %U /var/lib/tlspolicyd/cache.db)\" = tlspolicyd");
            run(c, "kill -TERM $(cat /tmp/daemon.pid) || true");

            // Upgrade to a higher version: the operator's conffile and the state stay.
            run(c, "cd /tmp && rm -rf up && dpkg-deb -R tlspolicy.deb up && "
                    + "sed -i 's/^Version: .*/Version: 0.1.0/' up/DEBIAN/control && "
                    + "dpkg-deb -b up tlspolicy-up.deb >/dev/null && "
                    + "DEBIAN_FRONTEND=noninteractive apt-get install -y "
                    + "/tmp/tlspolicy-up.deb");
            assertEquals("install ok installed 0.1.0", run(c,
                    "dpkg-query -W -f='${Status} ${Version}' tlspolicy"));
            assertTrue(run(c, "cat /etc/tlspolicyd/tlspolicyd.yml").contains("127.0.0.1:18461"),
                    "the operator's change survives the upgrade");
            run(c, "test -f /var/lib/tlspolicyd/cache.db");
            run(c, "sha256sum -c /root/main.cf.sum");

            // Purge: program, state and configuration go, and the units the operator enabled
            // are disabled (the links systemctl enable makes); the users stay (Debian's way).
            run(c, "mkdir -p /etc/systemd/system/multi-user.target.wants "
                    + "/etc/systemd/system/timers.target.wants && "
                    + "ln -sf /lib/systemd/system/tlspolicyd.service "
                    + "/etc/systemd/system/multi-user.target.wants/ && "
                    + "ln -sf /lib/systemd/system/tlsrpt-sender-send.timer "
                    + "/etc/systemd/system/timers.target.wants/");
            run(c, "DEBIAN_FRONTEND=noninteractive apt-get purge -y tlspolicy");
            run(c, "test ! -e /etc/systemd/system/multi-user.target.wants/tlspolicyd.service "
                    + "&& test ! -L /etc/systemd/system/multi-user.target.wants/"
                    + "tlspolicyd.service && test ! -L /etc/systemd/system/timers.target.wants/"
                    + "tlsrpt-sender-send.timer");
            for (String path : new String[] {"/usr/share/tlspolicyd", "/usr/bin/tlspolicyd",
                "/lib/systemd/system/tlspolicyd.service", "/etc/tlspolicyd",
                "/etc/default/tlsrpt-sender", "/var/lib/tlspolicyd", "/etc/tlsrpt-sender",
                "/var/spool/postfix/run/tlsrpt", "/var/lib/tlsrpt-receiver",
                "/etc/default/tlsrpt-receiver", "/usr/bin/tlsrpt-receiver"}) {
                run(c, "test ! -e " + path);
            }
            assertEquals("", run(c, "dpkg-query -W -f='${Status}' tlspolicy 2>/dev/null "
                    + "|| true"));
            run(c, "getent passwd tlspolicyd >/dev/null");
            run(c, "sha256sum -c /root/main.cf.sum");
        }
    }
}
