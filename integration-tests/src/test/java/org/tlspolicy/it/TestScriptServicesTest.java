package org.tlspolicy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * scripts/lib/packages.sh leaves no service of a package it installed enabled at boot:
 * its disable_services_of, run on a unit tree of its own (systemctl --root), with dpkg's file
 * list of a package given by a stand-in dpkg (a fake: the test installs no real package).
 * A unit of a package not named stays enabled.
 */
class TestScriptServicesTest {

    @Test
    void theServicesOfPackagesInstalledForTheTestsAreDisabledAtBoot(@TempDir Path dir)
            throws Exception {
        Path root = dir.resolve("root");
        Path units = Files.createDirectories(root.resolve("lib/systemd/system"));
        for (String unit : new String[] {"resolverd.service", "resolverd.socket",
            "operatord.service"}) {
            Files.writeString(units.resolve(unit), "[Unit]\nDescription=" + unit
                    + "\n[Service]\nExecStart=/bin/true\n[Socket]\nListenStream=9\n"
                    + "[Install]\nWantedBy=multi-user.target\n");
        }
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path dpkg = Files.writeString(bin.resolve("dpkg"), """
                #!/bin/sh
                # dpkg -L resolver: the files of the package the script installed
                [ "$2" = resolver ] && printf '%s\\n' /usr/sbin/resolverd \\
                    /lib/systemd/system/resolverd.service /lib/systemd/system/resolverd.socket
                exit 0
                """);
        Files.setPosixFilePermissions(dpkg, PosixFilePermissions.fromString("rwxr-xr-x"));
        String script = "set -e; . scripts/lib/packages.sh; "
                + "for u in resolverd.service resolverd.socket operatord.service; do "
                + "systemctl --root=\"$SYSTEMD_ROOT\" enable \"$u\" >/dev/null 2>&1; done; "
                + "disable_services_of resolver; "
                + "for u in resolverd.service resolverd.socket operatord.service; do "
                + "echo \"$u $(systemctl --root=\"$SYSTEMD_ROOT\" is-enabled \"$u\" || true)\"; "
                + "done";
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script)
                .directory(Path.of("..").toFile()).redirectErrorStream(true);
        pb.environment().put("SYSTEMD_ROOT", root.toString());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("disabled at boot: resolverd.service (installed for the "
                + "tests)\n"), out);
        assertTrue(out.contains("\nresolverd.service disabled\nresolverd.socket disabled\n"
                + "operatord.service enabled\n"), out);
        assertFalse(Files.exists(root.resolve("etc/systemd/system/multi-user.target.wants/"
                + "resolverd.service")), out);
    }
}
