package org.tlspolicy.fleet;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.tlspolicy.cache.SharedTier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz target for what a relay reads from the shared store (network input that anyone
 * the server lets write can shape). Two ways in: a raw value (the fuzzer cannot forge a MAC,
 * so this exercises everything before the MAC check), and a payload signed with the fleet key
 * (everything after it: what a relay of the fleet with a bug, or a future version, could
 * write). The ordinary run replays the corpus beside this class; the {@code fuzz-fleet}
 * execution in daemon/pom.xml fuzzes it briefly.
 */
class SharedEntryFuzzTest {

    static final long NOW = 1_800_000_000_000L;

    @FuzzTest(maxDuration = "15s")
    void value(FuzzedDataProvider data) {
        boolean signed = data.consumeBoolean();
        String kind = data.pickValue(new String[] {"sts", "dane"});
        long validUntil = data.consumeLong(0, 999_999_999_999_999L);
        String text = data.consumeRemainingAsString();
        String value = signed
                ? SharedEntry.value(SharedEntryProperties.KEY, kind, "x.test", validUntil, text)
                : text;
        SharedEntry.Read<SharedTier.StsEntry> sts =
                SharedEntry.readSts(SharedEntryProperties.KEY, "x.test", value, NOW);
        SharedEntry.Read<?> dane =
                SharedEntry.readDane(SharedEntryProperties.KEY, "x.test", value, NOW);
        if (!signed) {
            return;
        }
        boolean fresh = validUntil > NOW;
        if (kind.equals("dane")) {
            assertEquals(fresh, dane instanceof SharedEntry.Read.Found<?>);
            return;
        }
        if (sts instanceof SharedEntry.Read.Found<SharedTier.StsEntry> f) {
            assertTrue(fresh);
            assertEquals(validUntil, f.value().validUntil());
            if (f.value() instanceof SharedTier.PolicyEntry p) {
                // Never a policy fetched after it expires, nor one that names another domain.
                assertTrue(p.policy().fetchedAt() <= p.policy().expiresAt());
                assertEquals("x.test", p.policy().domain());
            }
        }
    }
}
