package org.tlspolicy.dane;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.xbill.DNS.Message;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TLSARecord;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz targets for what DANE reads: persisted results (text derived from DNS answers,
 * read back from a store that may be damaged), TLSA presentation text, and MX and TLSA records
 * of DNS responses off the wire. The ordinary run replays the corpora beside this class; the
 * {@code fuzz-dane*} executions in daemon/pom.xml fuzz each briefly. A parsed result must keep
 * the invariants the decision relies on.
 */
class DaneLookupCodecFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void storedResult(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        DaneLookupCodecProperties.checkInvariants(DaneLookupCodec.parse(text));
        Tlsa.parse(text).ifPresent(t -> Tlsa.parse(t.toString()).orElseThrow());
    }

    /**
     * A DNS response off the wire (dnsjava parses it), its records then read as DANE does:
     * MX exchanges into hosts, TLSA records into usable or not. Nothing may throw beyond
     * dnsjava's own rejection of a malformed message.
     */
    @FuzzTest(maxDuration = "15s")
    void dnsResponse(byte[] input) {
        Message m;
        try {
            m = new Message(input);
        } catch (IOException | IllegalArgumentException malformed) {
            // dnsjava's rejection (e.g. InvalidTTLException for a TTL above 2^31-1, the
            // fuzzer's first find): in DnsClient a failed query, so an indeterminate answer
            return;
        }
        List<Record> answer = m.getSection(Section.ANSWER);
        MxHosts hosts = MxHosts.of(answer);
        assertTrue(!hosts.nullMx() || hosts.hosts().isEmpty());
        for (Record r : answer) {
            if (r instanceof TLSARecord t) {
                try {
                    Tlsa tlsa = Tlsa.of(t);
                    assertEquals(tlsa, Tlsa.parse(tlsa.toString()).orElseThrow());
                } catch (IllegalArgumentException emptyOrOversized) {
                    // not kept, as DaneResolver does
                }
            }
        }
    }
}
