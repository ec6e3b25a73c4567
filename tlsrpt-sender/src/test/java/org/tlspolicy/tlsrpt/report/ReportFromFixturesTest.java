package org.tlspolicy.tlsrpt.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.postfixlog.SessionAssembler;
import org.tlspolicy.tlsrpt.postfixlog.TlsSession;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * From real Postfix log lines (the end-to-end fixtures) to RFC 8460 reports: sessions,
 * classified under each scenario's policy, counted in the store, built into JSON; the JSON is
 * read back with a streaming parser and checked against what each scenario did.
 */
class ReportFromFixturesTest {

    private static final TlsReport.Submitter SUBMITTER = new TlsReport.Submitter(
            "Sender Org", "mailto:tlsrpt@sender.test", "sender.test", "");

    @TempDir
    Path dir;

    private static AppliedPolicy sts(String domain, String mode) {
        return new AppliedPolicy(PolicyType.STS, domain, List.of("version: STSv1", "mode: " + mode,
                "mx: mx." + domain, "max_age: 86400"), List.of("mx." + domain));
    }

    private static AppliedPolicy tlsa(String domain) {
        return new AppliedPolicy(PolicyType.TLSA, domain, List.of("3 1 1 0011"),
                List.of("mx." + domain));
    }

    /** The policy each scenario's domain published (as tlspolicyd records it). */
    private static final Map<String, AppliedPolicy> POLICIES = new LinkedHashMap<>();

    static {
        for (String d : List.of("sts-good", "sts-wrongname", "sts-selfsigned", "sts-expired",
                "sts-nostarttls", "sts-unlisted", "cached")) {
            POLICIES.put(d + ".test", sts(d + ".test", "enforce"));
        }
        POLICIES.put("sts-testing.test", sts("sts-testing.test", "testing"));
        for (String d : List.of("dane-good", "dane-bad", "dane-bogus", "both")) {
            POLICIES.put(d + ".test", tlsa(d + ".test"));
        }
    }

    private static AppliedPolicy policy(String domain) {
        return POLICIES.getOrDefault(domain, AppliedPolicy.none(domain));
    }

    private static List<TlsSession> fixtureSessions() throws Exception {
        Path fixtures = Path.of(ReportFromFixturesTest.class
                .getResource("/postfix-logs/postfix-3.7").toURI());
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(fixtures)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                Files.readAllLines(f).stream().filter(l -> !l.startsWith("#"))
                        .forEach(lines::add);
            }
        }
        return SessionAssembler.assemble(lines, Instant.parse("2026-12-01T00:00:00Z"),
                ZoneOffset.UTC);
    }

    /** The day the fixtures were written (their timestamps). */
    private static LocalDate day(List<TlsSession> sessions) {
        return sessions.get(0).time().atZone(ZoneOffset.UTC).toLocalDate();
    }

    private Map<String, TlsReport> reports(String storeFile) throws Exception {
        List<TlsSession> sessions = fixtureSessions();
        LocalDate day = day(sessions);
        List<SessionCount> counts = new ArrayList<>();
        for (TlsSession s : sessions) {
            AppliedPolicy p = policy(s.domain());
            SessionClassifier.classify(s.facts(), p).ifPresent(r -> counts.add(
                    r instanceof SessionResult.Failure
                            ? new SessionCount(day, p, r, s.mx().host(), s.mx().ip(), 1)
                            : new SessionCount(day, p, r, "", "", 1)));
        }
        Map<String, TlsReport> reports = new LinkedHashMap<>();
        try (SessionStore store = SessionStore.open(dir.resolve(storeFile))) {
            store.add(counts, "test", "end");
            for (String domain : store.domains(day)) {
                reports.put(domain, TlsReport.build(SUBMITTER, domain, day,
                        store.counts(day, domain)));
            }
        }
        return reports;
    }

    /** A JSON document as maps, lists, strings and longs, read by Jackson's parser. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> read(byte[] json) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(json)) {
            p.nextToken();
            return (Map<String, Object>) value(p);
        }
    }

    private static Object value(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            Map<String, Object> m = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                m.put(name, value(p));
            }
            return m;
        }
        if (t == JsonToken.START_ARRAY) {
            List<Object> l = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                l.add(value(p));
            }
            return l;
        }
        if (t == JsonToken.VALUE_NUMBER_INT) {
            return p.getLongValue();
        }
        return p.getText();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> policies(Map<String, Object> report) {
        return (List<Map<String, Object>>) report.get("policies");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> get(Map<String, Object> m, String key) {
        return (Map<String, Object>) m.get(key);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> failures(Map<String, Object> policy) {
        return (List<Map<String, Object>>) policy.getOrDefault("failure-details", List.of());
    }

    /** Expected per domain: policy type, successes, failures, and each failure's type, MX, IP. */
    private record Expect(String type, long ok, long failed, List<List<Object>> details) {
    }

    private static Expect e(String type, long ok, long failed, List<Object>... details) {
        return new Expect(type, ok, failed, List.of(details));
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyScenarioIsReportedAsItHappened() throws Exception {
        Map<String, Expect> want = new LinkedHashMap<>();
        want.put("sts-good.test", e("sts", 1, 0));
        want.put("sts-wrongname.test", e("sts", 0, 1, List.of("certificate-host-mismatch",
                "mx.sts-wrongname.test", "127.0.2.2", 1L)));
        want.put("sts-selfsigned.test", e("sts", 0, 1, List.of("certificate-not-trusted",
                "mx.sts-selfsigned.test", "127.0.2.3", 1L)));
        want.put("sts-expired.test", e("sts", 0, 1, List.of("certificate-expired",
                "mx.sts-expired.test", "127.0.2.4", 1L)));
        want.put("sts-nostarttls.test", e("sts", 0, 1, List.of("starttls-not-supported",
                "mx.sts-nostarttls.test", "127.0.2.5", 1L)));
        want.put("sts-unlisted.test", e("sts", 1, 1, List.of("certificate-host-mismatch",
                "mx-rogue.sts-unlisted.test", "127.0.2.6", 1L)));
        want.put("sts-testing.test", e("sts", 0, 1, List.of("certificate-not-trusted",
                "mx.sts-testing.test", "127.0.2.8", 1L)));
        // The second message, deferred while tlspolicyd was down, is not held against it.
        want.put("nopolicy.test", e("no-policy-found", 1, 0));
        want.put("dane-good.test", e("tlsa", 1, 0));
        want.put("dane-bad.test", e("tlsa", 0, 1, List.of("tlsa-invalid", "mx.dane-bad.test",
                "127.0.2.11", 1L)));
        // No connection was made: no receiving-ip.
        want.put("dane-bogus.test", e("tlsa", 0, 1, java.util.Arrays.asList("dnssec-invalid",
                "mx.dane-bogus.test", null, 1L)));
        want.put("both.test", e("tlsa", 1, 0));
        want.put("cached.test", e("sts", 0, 3, List.of("certificate-host-mismatch",
                "mx.cached.test", "127.0.2.14", 3L)));

        Map<String, TlsReport> reports = reports("tlsrpt.db");
        assertEquals(want.keySet(), reports.keySet());
        for (Map.Entry<String, Expect> w : want.entrySet()) {
            Map<String, Object> json = read(reports.get(w.getKey()).json());
            assertEquals("Sender Org", json.get("organization-name"));
            assertEquals("mailto:tlsrpt@sender.test", json.get("contact-info"));
            List<Map<String, Object>> policies = policies(json);
            assertEquals(1, policies.size(), w.getKey());
            Map<String, Object> policy = policies.get(0);
            assertEquals(w.getValue().type(), get(policy, "policy").get("policy-type"));
            assertEquals(w.getKey(), get(policy, "policy").get("policy-domain"));
            assertEquals(w.getValue().ok(), get(policy, "summary")
                    .get("total-successful-session-count"), w.getKey());
            assertEquals(w.getValue().failed(), get(policy, "summary")
                    .get("total-failure-session-count"), w.getKey());
            List<Map<String, Object>> details = failures(policy);
            assertEquals(w.getValue().details().size(), details.size(), w.getKey());
            for (int i = 0; i < details.size(); i++) {
                List<Object> d = w.getValue().details().get(i);
                Map<String, Object> got = details.get(i);
                assertEquals(d.get(0), got.get("result-type"), w.getKey());
                assertEquals(d.get(1), got.get("receiving-mx-hostname"), w.getKey());
                assertEquals(d.get(2), got.get("receiving-ip"), w.getKey());
                assertEquals(d.get(3), got.get("failed-session-count"), w.getKey());
                // RFC 8460 §4.4: Postfix's words are the reason code; additional-information
                // is for a URI, which a log has none of.
                assertFalse(((String) got.get("failure-reason-code")).isEmpty(),
                        new String(reports.get(w.getKey()).json()));
                assertFalse(got.containsKey("additional-information"), got.toString());
            }
        }
        Map<String, Object> testing = get(policies(read(reports.get("sts-testing.test")
                .json())).get(0), "policy");
        assertEquals(List.of("version: STSv1", "mode: testing", "mx: mx.sts-testing.test",
                "max_age: 86400"), testing.get("policy-string"));
        assertEquals(List.of("mx.sts-testing.test"), testing.get("mx-host"));
    }

    @Test
    void reportIdDateRangeAndFileNameAreStable() throws Exception {
        TlsReport first = reports("one.db").get("sts-good.test");
        TlsReport again = reports("two.db").get("sts-good.test");
        assertEquals(first.reportId(), again.reportId());
        assertArrayEquals(first.json(), again.json());
        Map<String, Object> json = read(first.json());
        String day = first.day().toString();
        assertEquals(day + "T00:00:00Z", get(json, "date-range").get("start-datetime"));
        assertEquals(day + "T23:59:59Z", get(json, "date-range").get("end-datetime"));
        assertEquals(first.reportId(), json.get("report-id"));
        assertTrue(first.reportId().startsWith(day + "T00:00:00Z_sts-good.test_"));
        long begin = first.day().atStartOfDay(ZoneOffset.UTC).toEpochSecond();
        assertEquals("sender.test!sts-good.test!" + begin + "!" + (begin + 86_399) + "!"
                        + first.reportId().substring(first.reportId().lastIndexOf('_') + 1)
                        + ".json.gz", first.fileName(SUBMITTER));
        try (GZIPInputStream z = new GZIPInputStream(new ByteArrayInputStream(first.gzip()))) {
            assertArrayEquals(first.json(), z.readAllBytes());
        }
        // Another submitter, another id: ids are unique per submitter, domain and day.
        TlsReport other = TlsReport.build(new TlsReport.Submitter("O", "mailto:x@o.test",
                "o.test", ""), "sts-good.test", first.day(), List.of());
        assertFalse(other.reportId().equals(first.reportId()));
    }
}
