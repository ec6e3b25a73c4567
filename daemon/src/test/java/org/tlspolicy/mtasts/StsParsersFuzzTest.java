package org.tlspolicy.mtasts;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz targets for the two MTA-STS parsers of network input: the TXT record (from DNS)
 * and the policy body (from HTTPS). The ordinary run replays the corpus beside this class; the
 * {@code fuzz-sts} execution in daemon/pom.xml fuzzes each briefly.
 */
class StsParsersFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void txtRecord(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        StsRecord.Discovery d = StsRecord.discover(List.of(text, text.replace('|', ';')));
        if (d instanceof StsRecord.Discovery.Published published) {
            assertTrue(published.record().id().matches("[A-Za-z0-9]{1,32}"));
        }
    }

    @FuzzTest(maxDuration = "15s")
    void policyBody(byte[] input) {
        StsPolicy.Parse p = StsPolicy.parse(new String(input, StandardCharsets.UTF_8));
        if (p instanceof StsPolicy.Parse.Valid valid) {
            StsPolicy policy = valid.policy();
            assertTrue(policy.maxAgeSeconds() <= StsPolicy.MAX_AGE_LIMIT);
            assertTrue(policy.mode() == StsPolicy.Mode.NONE || !policy.mx().isEmpty());
            for (MxPattern m : policy.mx()) {
                assertTrue(m.postfixMatch().matches("\\.?[a-z0-9.-]+"), m.toString());
            }
        }
    }
}
