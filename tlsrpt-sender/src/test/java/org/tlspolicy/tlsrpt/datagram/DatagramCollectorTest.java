package org.tlspolicy.tlsrpt.datagram;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.report.AppliedPolicy;
import org.tlspolicy.tlsrpt.report.PolicyType;
import org.tlspolicy.tlsrpt.report.ResultType;
import org.tlspolicy.tlsrpt.report.SessionResult;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The datagram collector on a real AF_UNIX datagram socket, sent to by another process
 * (Debian's python3, {@code socket.AF_UNIX, SOCK_DGRAM}, as libtlsrpt does from smtp(8)):
 * well-formed delivery requests are counted, a malformed one is counted as such and does not
 * stop the others.
 */
class DatagramCollectorTest {

    private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    private static final LocalDate DAY = LocalDate.parse("2026-11-23");

    @TempDir
    Path dir;

    @Test
    void datagramsFromAnotherProcessAreCounted() throws Exception {
        Path socket = dir.resolve("tlsrpt.sock");
        AppliedPolicy sts = new AppliedPolicy(PolicyType.STS, "a.test", List.of("version: STSv1",
                "mode: enforce", "mx: mx.a.test"), List.of("mx.a.test"));
        TlsrptDatagram ok = new TlsrptDatagram("a.test", "v=TLSRPTv1;rua=mailto:r@a.test",
                List.of(new TlsrptDatagram.Outcome(sts, true, List.of())));
        TlsrptDatagram failed = new TlsrptDatagram("a.test", "", List.of(
                new TlsrptDatagram.Outcome(sts, false, List.of(new TlsrptDatagram.Failure(
                        ResultType.CERTIFICATE_EXPIRED, "192.0.2.25", "mx.a.test",
                        "250-mx.a.test\r\n250-PIPELINING\r\n250 STARTTLS", "192.0.2.1",
                        "", "certificate has expired")))));
        Path script = Files.writeString(dir.resolve("send.py"), """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                for d in sys.argv[2:]:
                    s.sendto(d.encode(), sys.argv[1])
                """);
        try (SessionStore store = SessionStore.open(dir.resolve("tlsrpt.db"));
             DatagramCollector c = DatagramCollector.listen(store, () -> NOW, socket)) {
            assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(socket)));
            Process p = new ProcessBuilder("/usr/bin/python3", script.toString(),
                    socket.toString(), DatagramProperties.write(ok), "{\"d\": truncated",
                    DatagramProperties.write(failed), DatagramProperties.write(ok))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            int committed = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (committed < 3 && System.nanoTime() < deadline) {
                committed += c.commit(100);
            }
            assertEquals(3, committed);
            assertEquals(1, c.malformed());
            assertEquals(List.of(
                    new SessionCount(DAY, "a.test", sts, new SessionResult.Failure(
                            ResultType.CERTIFICATE_EXPIRED, "certificate has expired"),
                            "192.0.2.25", "mx.a.test", "mx.a.test", "192.0.2.1", 1),
                    new SessionCount(DAY, sts, new SessionResult.Success(), "", "", 2)),
                    store.counts(DAY, "a.test"));
        }
        assertTrue(Files.notExists(socket), "socket removed on close");
    }
}
