package org.tlspolicy.dns;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.testworld.DaneWorld;
import org.tlspolicy.testworld.DnsRelay;
import org.xbill.DNS.Name;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DNSSEC self-check against DaneWorld's real knotd behind an iterating unbound, with a
 * relay in between that can drop every answer (a fault a real resolver cannot be told to
 * make on cue): it reports the failure once, keeps checking, and reports the repair once.
 */
@Timeout(60)
class ValidationCheckTest {

    @Test
    void aFailureIsToldOnceAndTheRepairOnce(@TempDir Path dir) throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (DaneWorld world = DaneWorld.start(dir);
             DnsRelay relay = DnsRelay.start(world.iteratingResolver())) {
            relay.drop();
            DnsClient dns = new DnsClient(List.of(relay.address()), Duration.ofMillis(300), 1,
                    Optional.of(Files.readString(world.trustAnchorFile())));
            List<ValidationCheck.State> changes = new CopyOnWriteArrayList<>();
            ValidationCheck check = new ValidationCheck(Name.fromString("test."), dns, timer,
                    changes::add, Duration.ofMillis(200));
            assertTrue(check.state() instanceof ValidationCheck.State.Pending);
            check.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (changes.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(check.problem().orElseThrow().startsWith("DNSSEC validation fails "
                    + "(test. SOA indeterminate: "), check.problem().toString());
            Thread.sleep(1000); // several more failing checks: no more changes told
            assertEquals(1, changes.size(), changes.toString());

            relay.pass();
            while (changes.size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(2, changes.size(), changes.toString());
            assertEquals(new ValidationCheck.State.Validates(Name.fromString("test.")),
                    changes.get(1));
            assertEquals(Optional.empty(), check.problem());
            check.close();
        } finally {
            timer.shutdownNow();
        }
    }
}
