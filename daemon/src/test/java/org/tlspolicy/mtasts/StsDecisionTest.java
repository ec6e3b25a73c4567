package org.tlspolicy.mtasts;

import org.junit.jupiter.api.Test;
import org.tlspolicy.policy.PolicyOutcome;
import org.tlspolicy.policy.PolicyTable;
import org.tlspolicy.socketmap.SocketmapReply;
import org.tlspolicy.tlsrpt.TlsrptMode;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** From MTA-STS state to the exact reply Postfix reads (shared README §2). */
class StsDecisionTest {

    static final TlsrptMode TLSRPT_ON_MAY = new TlsrptMode(true, Optional.of("may"), "test");
    static final TlsrptMode TLSRPT_ON_UNKNOWN = new TlsrptMode(true, Optional.empty(), "test");

    static StsState.Policy state(String body) {
        assertInstanceOf(StsPolicy.Parse.Valid.class, StsPolicy.parse(body));
        return new StsState.Policy("20240101", body, 0, 1000, 0, 0, 0, "");
    }

    static String reply(StsDecision d, StsState s) {
        return PolicyTable.reply(d.decide("example.com", s)).payload();
    }

    static final String ENFORCE = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.net\r\n"
            + "mx: *.example.org\r\nmax_age: 604800\r\n";

    @Test
    void enforceBecomesSecureWithMatchPatternsAndServername() {
        assertEquals("OK secure match=mx1.example.net:.example.org servername=hostname",
                reply(new StsDecision(false, TlsrptMode.OFF), state(ENFORCE)));
    }

    @Test
    void tlsrptAttributesListPatternsAndPolicyLinesNeverPolicyTtl() {
        String r = reply(new StsDecision(false, TLSRPT_ON_MAY), state(ENFORCE));
        assertEquals("OK secure match=mx1.example.net:.example.org servername=hostname "
                + "policy_type=sts policy_domain=example.com "
                + "mx_host_pattern=mx1.example.net mx_host_pattern=*.example.org "
                + "{ policy_string = version: STSv1 } { policy_string = mode: enforce } "
                + "{ policy_string = mx: mx1.example.net } { policy_string = mx: *.example.org } "
                + "{ policy_string = max_age: 604800 }", r);
        assertTrue(!r.contains("policy_ttl"));
    }

    @Test
    void testingIsNotFoundUnlessStrictTesting() {
        StsState.Policy testing = state(ENFORCE.replace("enforce", "testing"));
        assertEquals("NOTFOUND ", reply(new StsDecision(false, TlsrptMode.OFF), testing));
        assertEquals("OK secure match=mx1.example.net:.example.org servername=hostname",
                reply(new StsDecision(true, TlsrptMode.OFF), testing));
    }

    @Test
    void modeNoneIsNotFoundEvenWhenStrict() {
        StsState.Policy none = state("version: STSv1\nmode: none\nmax_age: 86400\n");
        assertEquals("NOTFOUND ", reply(new StsDecision(true, TLSRPT_ON_MAY), none));
    }

    @Test
    void noPolicyIsNotFound() {
        assertEquals("NOTFOUND ", reply(new StsDecision(false, TLSRPT_ON_MAY),
                new StsState.NoPolicy("no TXT record", null, 0)));
    }

    @Test
    void failureIsReportedAtTheDefaultLevelOnlyWhenItIsKnown() {
        StsState.NoPolicy failed = new StsState.NoPolicy("HTTP 404", StsFailure.FETCH_ERROR, 0);
        assertEquals("OK may policy_type=sts policy_domain=example.com "
                        + "policy_failure=sts-policy-fetch-error",
                reply(new StsDecision(false, TLSRPT_ON_MAY), failed));
        assertEquals("OK encrypt policy_type=sts policy_domain=example.com "
                        + "policy_failure=sts-webpki-invalid",
                reply(new StsDecision(false, new TlsrptMode(true, Optional.of("encrypt"), "t")),
                        new StsState.NoPolicy("x", StsFailure.WEBPKI_INVALID, 0)));
        assertEquals("NOTFOUND ", reply(new StsDecision(false, TLSRPT_ON_UNKNOWN), failed));
        assertEquals("NOTFOUND ", reply(new StsDecision(false, TlsrptMode.OFF), failed));
    }

    @Test
    void cachedPolicyWithFailingRefreshStillEnforcesAndSaysSo() {
        StsState.Policy p = state(ENFORCE);
        StsState.Policy failing = new StsState.Policy(p.id(), p.body(), 0, 1000, 0, 0, 0,
                "sts-policy-fetch-error: HTTP 500");
        PolicyOutcome o = new StsDecision(false, TLSRPT_ON_MAY).decide("example.com", failing);
        PolicyOutcome.Apply apply = assertInstanceOf(PolicyOutcome.Apply.class, o);
        assertTrue(apply.reason().contains("refresh failing"), apply.reason());
        assertTrue(!apply.policy().render().contains("policy_failure"));
    }

    static String longPolicyReply(int patterns) {
        StringBuilder body = new StringBuilder("version: STSv1\nmode: enforce\nmax_age: 86400\n");
        for (int i = 0; i < patterns; i++) {
            body.append("mx: mx").append(i).append(".example.net\n");
        }
        assertTrue(body.length() < 64 * 1024, "a valid body under the fetch cap");
        SocketmapReply r = PolicyTable.reply(new StsDecision(false, TLSRPT_ON_MAY)
                .decide("example.com", state(body.toString())));
        assertInstanceOf(SocketmapReply.Ok.class, r);
        assertTrue(r.payload().length() < 100_000, "length " + r.payload().length());
        assertTrue(r.payload().startsWith("OK secure match=mx0.example.net:"), "the policy stays");
        assertTrue(r.payload().contains(":mx" + (patterns - 1) + ".example.net servername=hostname"));
        return r.payload();
    }

    @Test
    void longPolicyDropsPolicyStringsFirstToStayUnderPostfixsReplyLimit() {
        String r = longPolicyReply(1200);
        assertTrue(r.contains("policy_type=sts"));
        assertTrue(r.contains("mx_host_pattern=mx1199.example.net"));
        assertTrue(!r.contains("policy_string"));
    }

    @Test
    void longerPolicyDropsThePatternsButKeepsThePolicyAndItsTypeAndDomain() {
        String r = longPolicyReply(2000);
        // Postfix 3.10 then still reports the attempt against this MTA-STS policy (not as
        // no-policy-found), and checks MX names against the match list.
        assertTrue(r.endsWith(" servername=hostname policy_type=sts policy_domain=example.com"),
                r.substring(r.length() - 100));
        assertTrue(!r.contains("mx_host_pattern") && !r.contains("policy_string"));
    }

    @Test
    void bracesInExtensionLinesAreLeftOutOfPolicyStrings() {
        String r = reply(new StsDecision(false, TLSRPT_ON_MAY),
                state(ENFORCE + "x-note: a}b\r\n"));
        assertTrue(!r.contains("a}b"), r);
        assertTrue(r.endsWith("{ policy_string = max_age: 604800 }"), r);
    }
}
