package org.tlspolicy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The systemd units of postfix-conf/ (tlspolicyd, and tlsrpt-sender's collector, sender and
 * timer), checked by Debian's systemd-analyze without a running systemd: {@code verify} finds
 * nothing to complain about, and {@code security --offline} rates each service's sandbox at an
 * exposure of at most 2.0 (issue 8's target). Starting them under a real systemd is not done
 * here (no systemd runs as PID 1 on the test machines).
 */
class SystemdUnitTest {

    static final Path UNITS = Path.of("..", "postfix-conf", "systemd");
    static final Path UNIT = UNITS.resolve("tlspolicyd.service");
    static final List<String> SERVICES = List.of("tlspolicyd.service",
            "tlsrpt-sender-collect.service", "tlsrpt-sender-send.service",
            "tlsrpt-sender-check.service", "tlsrpt-receiver-listen.service",
            "tlsrpt-receiver-rollout.service", "tlsrpt-receiver-ingest.service");
    static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for \\S+: (\\d+\\.\\d)");

    record Run(int exit, String out) {
    }

    static Run systemdAnalyze(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("/usr/bin/systemd-analyze"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), out);
    }

    static double exposure(Path unit) throws Exception {
        Run r = systemdAnalyze("security", "--offline=true", unit.toString());
        Matcher m = EXPOSURE.matcher(r.out());
        assertTrue(m.find(), r.out());
        return Double.parseDouble(m.group(1));
    }

    @Test
    void theUnitsVerifyClean() throws Exception {
        for (String unit : List.of("tlspolicyd.service", "tlsrpt-sender-collect.service",
                "tlsrpt-sender-send.service", "tlsrpt-sender-check.service",
                "tlsrpt-sender-send.timer", "tlsrpt-receiver-listen.service",
                "tlsrpt-receiver-rollout.service", "tlsrpt-receiver-rollout.timer",
                "tlsrpt-receiver-ingest.service", "tlsrpt-receiver-ingest.path")) {
            // --man=no: the man pages of Documentation= come with the package (checked by
            // DebianPackageTest), not with the build host.
            Run r = systemdAnalyze("verify", "--man=no", UNITS.resolve(unit).toString());
            assertEquals(new Run(0, ""), r, unit);
        }
    }

    @Test
    void theInstanceTemplateVerifiesAndRatesAsTheUnit(@TempDir Path dir) throws Exception {
        // A template is verified as one of its instances.
        Path instance = Files.copy(UNITS.resolve("tlspolicyd@.service"),
                dir.resolve("tlspolicyd@submission.service"));
        assertEquals(new Run(0, ""), systemdAnalyze("verify", "--man=no", instance.toString()));
        assertTrue(exposure(instance) <= 2.0);
        String text = Files.readString(instance);
        for (String line : List.of("serve --config /etc/tlspolicyd/%i.yml'",
                "RuntimeDirectory=tlspolicyd-%i", "StateDirectory=tlspolicyd-%i",
                "SyslogIdentifier=tlspolicyd-%i")) {
            assertTrue(text.contains(line), line);
        }
        // The sandbox is the first unit's, line for line.
        String unit = Files.readString(UNIT);
        assertEquals(unit.substring(unit.indexOf("# Sandbox.")), text.substring(
                text.indexOf("# Sandbox.")));
    }

    @Test
    void theirSandboxesRateAtMostTwo() throws Exception {
        for (String service : SERVICES) {
            Path unit = UNITS.resolve(service);
            double e = exposure(unit);
            assertTrue(e <= 2.0, service + " exposure " + e);
            assertEquals(0, systemdAnalyze("security", "--offline=true", "--threshold=20",
                    unit.toString()).exit(), service);
        }
    }

    @Test
    void withoutTheSandboxTheSameCheckFails(@TempDir Path dir) throws Exception {
        // The check can fail: the same unit without its sandbox section rates far worse.
        String text = Files.readString(UNIT);
        String bare = text.substring(0, text.indexOf("# Sandbox.")) + "\n[Install]\n"
                + "WantedBy=multi-user.target\n";
        Path unit = Files.writeString(dir.resolve("tlspolicyd.service"), bare);
        double e = exposure(unit);
        assertTrue(e > 2.0, "exposure " + e);
    }
}
