package org.tlspolicy.tlsrpt.rollout;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.tlsrpt.received.ReceivedReport;
import org.tlspolicy.tlsrpt.receiver.ReceivedStore;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;

import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each rule of the rollout on reports stored in a real SQLite store and an audit as {@code
 * tlspolicyd audit --json} writes it: what blocks enforcing (the domain's failures, unexplained
 * ones, too few days or reporters, a failing audit), what does not (one sender's network), and
 * in enforce the rollback and the max_age raise, with the records to publish.
 */
class RolloutTest {

    static final String DOMAIN = "example.test";
    static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
    static final LocalDate TODAY = LocalDate.ofInstant(NOW, ZoneOffset.UTC);

    @TempDir
    Path dir;

    ReceivedStore store;
    int ids;

    @BeforeEach
    void open() throws Exception {
        store = ReceivedStore.sqlite(dir.resolve("r.db"));
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    /** A report of {@code org} for {@code daysAgo}, 1000 successes and {@code failures}. */
    void report(String org, int daysAgo, ReceivedReport.Failure... failures) throws Exception {
        Instant start = TODAY.minusDays(daysAgo).atStartOfDay().toInstant(ZoneOffset.UTC);
        long failed = 0;
        for (ReceivedReport.Failure f : failures) {
            failed += f.count();
        }
        store.store(new ReceivedReport(org, "r" + ids++, start, start.plusSeconds(86_399), "",
                List.of(new ReceivedReport.Policy("sts", DOMAIN, List.of(), List.of(), 1000,
                        failed, List.of(failures)))), new byte[] {'{', '}'}, "mail", "pass",
                org + ".example", NOW);
        store.commit();
    }

    static ReceivedReport.Failure failure(String result, String ip, String mx, long n) {
        return new ReceivedReport.Failure(result, ip, mx, "", "", n, "", "");
    }

    /** Clean days {@code from}..{@code to} days ago from each of {@code orgs}. */
    void clean(int from, int to, String... orgs) throws Exception {
        for (int d = from; d <= to; d++) {
            for (String o : orgs) {
                report(o, d);
            }
        }
    }

    static String audit(String mode, long maxAge, String... findings) {
        StringBuilder f = new StringBuilder();
        for (String x : findings) {
            f.append(f.length() == 0 ? "" : ",").append(x);
        }
        return """
                {"version": 1, "generated": "2026-12-07T12:00:00Z", "level": "ok",
                 "domains": [{"domain": "example.test", "level": "ok",
                   "policy": %s,
                   "findings": [%s], "certificates": [], "tlsa": []}]}"""
                .formatted(mode == null ? "null" : "{\"id\": \"1\", \"mode\": \"" + mode
                        + "\", \"max_age\": " + maxAge + ", \"mx\": [\"mx1.example.test\", "
                        + "\"mx2.example.test\"]}", f);
    }

    static String fail(String check, String host, String result) {
        return "{\"check\": \"" + check + "\", \"subject\": \"" + host + "\", \"level\": "
                + "\"fail\", \"found\": \"broken\", \"advice\": \"fix it\", \"result\": \""
                + result + "\", \"host\": \"" + host + "\"}";
    }

    Advice decide(String auditJson) throws Exception {
        LocalDate since = TODAY.minusDays(90);
        List<ReceivedSummary.Domain> s = ReceivedSummary.of(store.connection(), since,
                Optional.of(DOMAIN));
        return Rollout.decide(AuditView.parse(auditJson, DOMAIN), s.isEmpty() ? List.of()
                : s.get(0).days(), ReceivedSummary.failures(store.connection(), since, DOMAIN),
                Rollout.Settings.DEFAULT, NOW);
    }

    static String text(Advice a) {
        return String.join("\n", a.reasons());
    }

    @Test
    void withoutAPolicyStartWithPublish() throws Exception {
        Advice a = decide(audit(null, 0, fail("mta-sts-record", "", "")));
        assertEquals(Advice.Action.PUBLISH, a.action());
        assertTrue(text(a).contains("tlsrpt-receiver publish example.test"));
    }

    @Test
    void aFailureTheAuditFindsKeepsTestingEvenFromOneReporter() throws Exception {
        clean(1, 10, "google", "microsoft");
        report("google", 1, failure("certificate-expired", "192.0.2.1", "mx2.example.test",
                41));
        Advice a = decide(audit("testing", 86400, fail("mx-certificate-expiry",
                "mx2.example.test", "certificate-expired")));
        assertEquals(Advice.Action.STAY_TESTING, a.action());
        assertTrue(text(a).contains("your side: 41 failed sessions certificate-expired on "
                + "mx2.example.test, reported by google (the audit finds it now"), text(a));
        assertTrue(text(a).contains("the audit fails now"), text(a));
    }

    @Test
    void cleanDaysFromTwoReportersWithOneSendersFailureEnforce() throws Exception {
        clean(1, 8, "google", "microsoft");
        report("smallisp", 3, failure("starttls-not-supported", "198.51.100.7",
                "mx1.example.test", 2));
        Advice a = decide(audit("testing", 86400));
        assertEquals(Advice.Action.ENFORCE, a.action(), text(a));
        assertTrue(text(a).contains("sender's side, not blocking: 2 starttls-not-supported on "
                + "mx1.example.test reported by smallisp (one reporter, from one address "
                + "(198.51.100.7)"), text(a));
        Advice.Change c = a.change().orElseThrow();
        assertEquals("enforce", c.mode());
        assertEquals(86400, c.maxAge());
        assertEquals("20261207120000", c.id());
        assertEquals("_mta-sts.example.test. IN TXT \"v=STSv1; id=20261207120000;\"",
                c.txtRecord(DOMAIN));
        assertEquals("version: STSv1\nmode: enforce\nmx: mx1.example.test\n"
                + "mx: mx2.example.test\nmax_age: 86400\n", c.policyFile());
    }

    @Test
    void tooFewReportersOrDaysKeepTesting() throws Exception {
        clean(1, 10, "google");
        Advice one = decide(audit("testing", 86400));
        assertEquals(Advice.Action.STAY_TESTING, one.action());
        assertTrue(text(one).contains("1 of 2 reporters"), text(one));
        clean(1, 3, "microsoft");
        clean(11, 11, "microsoft");
        report("microsoft", 5, failure("validation-failure", "203.0.113.5", "mx1.example.test",
                3));
        report("google", 5, failure("validation-failure", "192.0.2.9", "mx1.example.test", 4));
        Advice two = decide(audit("testing", 86400));
        // Two reporters saw it: the domain's, though the audit finds nothing now; the clean
        // days count from the day after.
        assertEquals(Advice.Action.STAY_TESTING, two.action());
        assertTrue(text(two).contains("2 independent reporters see it"), text(two));
        assertTrue(text(two).contains("4 of 7 clean days with reports"), text(two));
    }

    @Test
    void oneReporterFromManyAddressesBlocksButOneNetworksFetchErrorsDoNot() throws Exception {
        clean(1, 9, "google", "microsoft");
        report("yahoo", 2, failure("sts-policy-fetch-error", "203.0.113.5", "", 3),
                failure("sts-policy-fetch-error", "203.0.113.77", "", 2));
        Advice fetch = decide(audit("testing", 86400));
        assertEquals(Advice.Action.ENFORCE, fetch.action(), text(fetch));
        assertTrue(text(fetch).contains("from one network"), text(fetch));
        report("yahoo", 1, failure("certificate-not-trusted", "203.0.113.5", "mx1.example.test",
                3), failure("certificate-not-trusted", "198.51.100.1", "mx1.example.test", 1));
        Advice unknown = decide(audit("testing", 86400));
        assertEquals(Advice.Action.STAY_TESTING, unknown.action());
        assertTrue(text(unknown).contains("unexplained: 4 failed sessions certificate-not-"
                + "trusted on mx1.example.test"), text(unknown));
    }

    @Test
    void enforcedWithTheDomainsFailureRollsBackAndCleanWeeksRaiseMaxAge() throws Exception {
        clean(1, 20, "google", "microsoft");
        Advice raise = decide(audit("enforce", 86400));
        assertEquals(Advice.Action.RAISE_MAX_AGE, raise.action(), text(raise));
        assertEquals(604800, raise.change().orElseThrow().maxAge());
        assertEquals(Advice.Action.STAY_ENFORCE, decide(audit("enforce", 604800)).action());
        report("google", 1, failure("certificate-host-mismatch", "192.0.2.1",
                "mx3.example.test", 12));
        Advice back = decide(audit("enforce", 604800, fail("mx-pattern", "mx3.example.test",
                "certificate-host-mismatch")));
        assertEquals(Advice.Action.ROLLBACK, back.action(), text(back));
        Advice.Change c = back.change().orElseThrow();
        assertEquals("testing", c.mode());
        assertEquals(86400, c.maxAge());
        assertTrue(text(back).startsWith("enforced, and mail to the domain fails on its side"));
    }

    @Test
    void blameMatchesLooselyNamedCertificateProblems() {
        AuditView.Finding missing = new AuditView.Finding("mx-certificate", "mx1.example.test",
                "fail", "intermediate missing", "", "certificate-not-trusted",
                "mx1.example.test");
        assertTrue(Blame.agrees(missing, "validation-failure", "mx1.example.test"));
        assertTrue(Blame.agrees(missing, "certificate-not-trusted", "mx1.example.test"));
        assertTrue(!Blame.agrees(missing, "certificate-not-trusted", "mx2.example.test"));
        assertTrue(!Blame.agrees(missing, "starttls-not-supported", "mx1.example.test"));
        assertEquals(1, Blame.networks(java.util.Set.of("203.0.113.5", "203.0.113.200")));
        assertEquals(2, Blame.networks(java.util.Set.of("2001:db8:1::1", "2001:db8:2::1")));
        assertEquals(2, Blame.networks(java.util.Set.of("dead.beef", "abc")));
        List<ReceivedSummary.FailureGroup> none = new ArrayList<>();
        assertEquals(List.of(), Blame.judge(none, new AuditView(DOMAIN, "ok", Optional.empty(),
                List.of())));
    }
}
