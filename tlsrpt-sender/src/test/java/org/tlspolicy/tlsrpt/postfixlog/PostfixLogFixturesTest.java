package org.tlspolicy.tlsrpt.postfixlog;

import org.junit.jupiter.api.Test;
import org.tlspolicy.tlsrpt.postfixlog.SessionFacts.Negotiated;
import org.tlspolicy.tlsrpt.postfixlog.SessionFacts.PolicyLookupFailed;
import org.tlspolicy.tlsrpt.postfixlog.SessionFacts.StarttlsNotOffered;
import org.tlspolicy.tlsrpt.postfixlog.SmtpLogEvent.Trust;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log lines a real Postfix 3.7.11 wrote in each end-to-end scenario (fixtures saved by
 * integration-tests' MailDeliveryTest) become the sessions the scenario made: expectations
 * written from the scenario (what MX, what certificate), not from the parser's output.
 */
class PostfixLogFixturesTest {

    private static final String SENDER = "postmaster@sender.test";

    private record Expected(String host, String ip, SessionFacts facts) {
    }

    private static Expected s(String host, String ip, SessionFacts facts) {
        return new Expected(host, ip, facts);
    }

    private static Negotiated ok(Trust trust) {
        return new Negotiated(trust, null, false);
    }

    private static Negotiated refused(String why) {
        return new Negotiated(Trust.UNTRUSTED, why, true);
    }

    /** Fixture file prefix → the recipient domain and the sessions its scenario made. */
    private static final Map<String, Map.Entry<String, List<Expected>>> SCENARIOS =
            new LinkedHashMap<>();

    static {
        put("01", "sts-good.test", s("mx.sts-good.test", "127.0.2.1", ok(Trust.VERIFIED)));
        put("02", "sts-wrongname.test", s("mx.sts-wrongname.test", "127.0.2.2",
                refused("num=62:hostname mismatch")));
        put("03", "sts-selfsigned.test", s("mx.sts-selfsigned.test", "127.0.2.3",
                refused("self-signed certificate")));
        put("04", "sts-expired.test", s("mx.sts-expired.test", "127.0.2.4",
                refused("certificate has expired")));
        put("05", "sts-nostarttls.test", s("mx.sts-nostarttls.test", "127.0.2.5",
                new StarttlsNotOffered(false)));
        put("06", "sts-unlisted.test",
                s("mx-rogue.sts-unlisted.test", "127.0.2.6", refused("num=62:hostname mismatch")),
                s("mx.sts-unlisted.test", "127.0.2.7", ok(Trust.VERIFIED)));
        put("07", "sts-testing.test", s("mx.sts-testing.test", "127.0.2.8",
                ok(Trust.UNTRUSTED)));
        put("08", "nopolicy.test", s("mx.nopolicy.test", "127.0.2.9", ok(Trust.UNTRUSTED)));
        put("09", "dane-good.test", s("mx.dane-good.test", "127.0.2.10", ok(Trust.VERIFIED)));
        put("10", "dane-bad.test", s("mx.dane-bad.test", "127.0.2.11",
                refused("num=65:no matching DANE TLSA records")));
        put("12", "both.test", s("mx.both.test", "127.0.2.13", ok(Trust.VERIFIED)));
        for (String n : List.of("13", "14", "15")) {
            put(n, "cached.test", s("mx.cached.test", "127.0.2.14",
                    refused("num=62:hostname mismatch")));
        }
        put("16", "nopolicy.test", s("mx.nopolicy.test", "", new PolicyLookupFailed(null)));
    }

    private static void put(String prefix, String domain, Expected... sessions) {
        SCENARIOS.put(prefix, Map.entry(domain, List.of(sessions)));
    }

    static Path fixtures() throws URISyntaxException {
        return Path.of(PostfixLogFixturesTest.class.getResource("/postfix-logs/postfix-3.7")
                .toURI());
    }

    static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file).stream().filter(l -> !l.startsWith("#")).toList();
    }

    private static Path fixture(String prefix) throws Exception {
        try (Stream<Path> files = Files.list(fixtures())) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix + "-"))
                    .findFirst().orElseThrow();
        }
    }

    private static List<TlsSession> sessions(List<String> lines) {
        // The fixtures were written in November 2026, UTC.
        return SessionAssembler.assemble(lines, Instant.parse("2026-12-01T00:00:00Z"),
                ZoneOffset.UTC);
    }

    @Test
    void everyScenarioYieldsTheSessionsItMade() throws Exception {
        for (Map.Entry<String, Map.Entry<String, List<Expected>>> e : SCENARIOS.entrySet()) {
            Path file = fixture(e.getKey());
            List<TlsSession> got = sessions(lines(file));
            List<Expected> want = e.getValue().getValue();
            assertEquals(want.size(), got.size(), file + ": " + got);
            for (int i = 0; i < want.size(); i++) {
                TlsSession session = got.get(i);
                assertEquals(e.getValue().getKey(), session.domain(), file.toString());
                assertEquals(SENDER, session.sender(), file.toString());
                assertEquals(want.get(i).host(), session.mx().host(), file.toString());
                assertEquals(want.get(i).ip(), session.mx().ip(), file.toString());
                assertEquals(want.get(i).facts(), session.facts(), file.toString());
                assertTrue(session.time().toString().startsWith("2026-11-"), file.toString());
            }
        }
    }

    @Test
    void policyServerTempReasonIsKept() throws Exception {
        List<TlsSession> got = sessions(lines(fixture("11")));
        assertEquals(1, got.size(), got.toString());
        TlsSession s = got.get(0);
        assertEquals("dane-bogus.test", s.domain());
        assertEquals("mx.dane-bogus.test", s.mx().host());
        PolicyLookupFailed f = (PolicyLookupFailed) s.facts();
        assertTrue(f.serverReason().startsWith("DNSSEC validation failed: mx.dane-bogus.test"),
                f.serverReason());
    }

    @Test
    void allFixturesAsOneLogYieldTheSameSessions() throws Exception {
        // Read one after another, as the collector reads one long log.
        List<String> all = new ArrayList<>();
        int expected = 1; // fixture 11
        for (Map.Entry<String, Map.Entry<String, List<Expected>>> e : SCENARIOS.entrySet()) {
            expected += e.getValue().getValue().size();
        }
        try (Stream<Path> files = Files.list(fixtures())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                all.addAll(lines(f));
            }
        }
        assertEquals(expected, sessions(all).size());
    }

    @Test
    void stateOfProcessesThatNeverEndIsBounded() {
        // A log cut off in the middle of many deliveries: what is kept stays bounded.
        SessionAssembler a = new SessionAssembler(x -> { });
        Instant t = Instant.parse("2026-11-23T00:00:00Z");
        for (int pid = 1; pid <= SessionAssembler.MAX_PROCESSES + 1000; pid++) {
            a.accept(new SyslogLine(t, "h", "postfix/smtp", pid, "Verified TLS connection "
                    + "established to mx.a.test[192.0.2.1]:25: TLSv1.3"), pid);
        }
        assertEquals(SessionAssembler.MAX_PROCESSES, a.processCount());
        assertEquals(1001, a.openSince(), "the oldest kept process's first line");
    }
}
