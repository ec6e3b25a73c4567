package org.tlspolicy.control;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.tlspolicy.nexthop.NextHop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz target for the control socket's request parser (what a local client sends):
 * every line is a request or {@link ControlRequest.Invalid}, never an exception; a request
 * names a domain as NextHop reads it, and the changing ones carry a reason. The ordinary run
 * replays the corpus; the {@code fuzz-control} execution in daemon/pom.xml fuzzes briefly.
 */
class ControlRequestFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void anyLineIsARequestOrRefused(String line) {
        if (line == null) {
            return; // Jazzer's null; a socket only ever yields a string
        }
        ControlRequest r = ControlRequest.parse(line);
        if (r instanceof ControlRequest.Show s) {
            assertEquals(s.domain(), ((NextHop.Domain) NextHop.parse(s.domain())).name());
        } else if (r instanceof ControlRequest.Purge p) {
            assertEquals(p.domain(), ((NextHop.Domain) NextHop.parse(p.domain())).name());
            assertFalse(p.reason().isBlank());
        } else if (r instanceof ControlRequest.Refresh f) {
            assertEquals(f.domain(), ((NextHop.Domain) NextHop.parse(f.domain())).name());
            assertFalse(f.reason().isBlank());
        } else if (r instanceof ControlRequest.Invalid i) {
            assertTrue(i.why().length() < 200, "an error stays short: " + i.why().length());
        } else {
            assertTrue(r instanceof ControlRequest.ListAll);
        }
    }
}
