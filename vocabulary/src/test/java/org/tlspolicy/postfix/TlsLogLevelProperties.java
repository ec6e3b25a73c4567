package org.tlspolicy.postfix;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * smtp_tls_loglevel values as Postfix reads them (tls_misc.c, tls_log_table): a session
 * summary is logged at 1 and above, and for the words whose mask includes TLS_LOG_SUMMARY.
 */
class TlsLogLevelProperties {

    /** tls_log_table's words without TLS_LOG_SUMMARY. */
    private static final List<String> SILENT = List.of("0", "none", "untrusted", "peercert",
            "certmatch", "verbose", "cache", "dane", "ssl-debug", "ssl-handshake-packet-dump",
            "ssl-session-packet-dump");
    private static final List<String> SUMMARY = List.of("1", "2", "3", "4", "9", "routine",
            "debug", "ssl-expert", "ssl-developer", "summary");

    @Example
    void postfixsDefaultAndDebiansLogNoSessions() {
        assertFalse(new TlsLogLevel("0").logsSessions());
        assertFalse(new TlsLogLevel("").logsSessions());
        assertFalse(new TlsLogLevel("untrusted, certmatch").logsSessions());
        assertTrue(new TlsLogLevel(" 1 ").logsSessions());
        assertTrue(new TlsLogLevel("untrusted,Summary").logsSessions());
        assertEquals("1", new TlsLogLevel(" 1\n").value());
    }

    @Provide
    Arbitrary<List<String>> silentWords() {
        return Arbitraries.of(SILENT).list().ofMaxSize(5);
    }

    @Property
    void onlyASummaryWordMakesSessionsLogged(@ForAll("silentWords") List<String> silent,
                                             @ForAll("separators") String separator,
                                             @ForAll boolean withSummary,
                                             @ForAll("summaryWord") String summary,
                                             @ForAll int at) {
        List<String> words = new ArrayList<>(silent);
        if (withSummary) {
            words.add(Math.floorMod(at, words.size() + 1), summary);
        }
        assertEquals(withSummary, new TlsLogLevel(String.join(separator, words))
                .logsSessions(), words.toString());
    }

    @Provide
    Arbitrary<String> separators() {
        return Arbitraries.of(",", ", ", " ", "\t", " , ");
    }

    @Provide
    Arbitrary<String> summaryWord() {
        return Arbitraries.of(SUMMARY);
    }

    @Property
    void anyTextIsAnsweredNeverThrown(@ForAll String value) {
        new TlsLogLevel(value).logsSessions();
    }
}
