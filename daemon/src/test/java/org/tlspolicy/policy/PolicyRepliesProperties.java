package org.tlspolicy.policy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.tlspolicy.dane.DaneDecision;
import org.tlspolicy.dane.DaneLookup;
import org.tlspolicy.dane.HostTlsa;
import org.tlspolicy.dane.Tlsa;
import org.tlspolicy.mtasts.StsDecision;
import org.tlspolicy.mtasts.StsFailure;
import org.tlspolicy.mtasts.StsPolicy;
import org.tlspolicy.mtasts.StsState;
import org.tlspolicy.tlsrpt.TlsrptMode;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every reply the decisions make for Postfix is one Postfix reads without deferring the mail
 * (as modelled by {@link PostfixPolicyRules}): with TLSRPT attributes for Postfix 3.10, without
 * for 3.7, for random MTA-STS policies (long ones included) and DANE results.
 */
class PolicyRepliesProperties {

    private static final List<TlsrptMode> ON = List.of(
            new TlsrptMode(true, Optional.of("may"), "t"),
            new TlsrptMode(true, Optional.of("encrypt"), "t"),
            new TlsrptMode(true, Optional.empty(), "t"));

    @Provide
    Arbitrary<String> hosts() {
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z')
                .withChars('-', '0', '7').ofMinLength(1).ofMaxLength(20)
                .filter(l -> !l.startsWith("-") && !l.endsWith("-"));
        return Combinators.combine(label.list().ofMinSize(1).ofMaxSize(4),
                        Arbitraries.strings().withCharRange('a', 'z').ofMinLength(2).ofMaxLength(6))
                .as((labels, tld) -> String.join(".", labels) + "." + tld);
    }

    @Provide
    Arbitrary<String> policies() {
        Arbitrary<String> mx = Combinators.combine(hosts(), Arbitraries.of(true, false))
                .as((h, wild) -> "mx: " + (wild ? "*." : "") + h);
        // Many mx lines now and then: replies that must shed their policy strings to fit.
        Arbitrary<List<String>> mxs = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(20, mx.list().ofMinSize(1).ofMaxSize(5)),
                net.jqwik.api.Tuple.of(1, mx.list().ofMinSize(1000).ofMaxSize(1700)));
        Arbitrary<String> extension = Arbitraries.of("", "x-note: hello world\n",
                "x-brace: {curly} value\n", "x_key: a,b c\n");
        return Combinators.combine(Arbitraries.of("enforce", "testing"), mxs, extension,
                        Arbitraries.of("\n", "\r\n"))
                .as((mode, lines, ext, eol) -> {
                    StringBuilder b = new StringBuilder("version: STSv1").append(eol)
                            .append("mode: ").append(mode).append(eol);
                    for (String l : lines) {
                        b.append(l).append(eol);
                    }
                    return b.append(ext.replace("\n", eol)).append("max_age: 86400")
                            .append(eol).toString();
                })
                .filter(body -> body.length() <= 64 * 1024
                        && StsPolicy.parse(body) instanceof StsPolicy.Parse.Valid);
    }

    @Property(tries = 300)
    void stsRepliesAreReadByPostfix(@ForAll("policies") String body, @ForAll("hosts") String domain,
                                    @ForAll boolean strictTesting) {
        StsState.Policy state = new StsState.Policy("1", body, 0, 1, 0, 0, 0, "");
        String off = render(new StsDecision(strictTesting, TlsrptMode.OFF).decide(domain, state));
        if (off != null) {
            assertEquals(Optional.empty(), PostfixPolicyRules.postfix37(off), off);
            assertEquals(Optional.empty(), PostfixPolicyRules.postfix310(off), off);
        }
        for (TlsrptMode on : ON) {
            String r = render(new StsDecision(strictTesting, on).decide(domain, state));
            if (r != null) {
                assertEquals(Optional.empty(), PostfixPolicyRules.postfix310(r), r);
                assertTrue(r.length() <= TlsPolicy.MAX_RENDERED, "reply too long");
                assertTrue((r + " ").contains(" policy_type=sts policy_domain=" + domain + " "),
                        "type and domain always stay: " + r.substring(Math.max(0, r.length() - 200)));
            }
        }
    }

    @Property
    void stsFailuresAreReadByPostfix(@ForAll StsFailure failure, @ForAll("hosts") String domain) {
        StsState.NoPolicy none = new StsState.NoPolicy("why", failure, 1);
        for (TlsrptMode on : ON) {
            String r = render(new StsDecision(false, on).decide(domain, none));
            if (r != null) {
                assertEquals(Optional.empty(), PostfixPolicyRules.postfix310(r), r);
            }
        }
        assertEquals(null, render(new StsDecision(false, TlsrptMode.OFF).decide(domain, none)));
    }

    @Provide
    Arbitrary<List<HostTlsa>> hostSets() {
        Arbitrary<Tlsa> tlsa = Combinators.combine(Arbitraries.integers().between(0, 4),
                        Arbitraries.integers().between(0, 1), Arbitraries.integers().between(0, 2))
                .as((u, s, m) -> new Tlsa(u, s, m, "AB".repeat(m == 2 ? 64 : 32)));
        Arbitrary<HostTlsa> host = Combinators.combine(hosts(),
                        Arbitraries.of(HostTlsa.Status.USABLE, HostTlsa.Status.UNUSABLE,
                                HostTlsa.Status.NONE), tlsa.list().ofMinSize(1).ofMaxSize(3))
                .as((h, status, records) -> new HostTlsa(h, status,
                        status == HostTlsa.Status.NONE ? "" : "_25._tcp." + h,
                        status == HostTlsa.Status.NONE ? List.of() : records, "secure"));
        return host.list().ofMinSize(1).ofMaxSize(6);
    }

    @Property
    void daneRepliesToPostfixCarryNoAttributesAndAreReadByBothVersions(
            @ForAll("hostSets") List<HostTlsa> hosts, @ForAll("hosts") String domain) {
        List<String> replies = new ArrayList<>();
        DaneDecision postfix = DaneDecision.forPostfix();
        boolean usable = hosts.stream().anyMatch(h -> h.status() == HostTlsa.Status.USABLE);
        if (usable) {
            replies.add(render(postfix.decide(domain, new DaneLookup.Applies("secure", hosts,
                    60))));
        } else {
            DaneLookup.NotApplicable na = new DaneLookup.NotApplicable("no usable TLSA",
                    "secure", hosts, 60);
            assertEquals(null, postfix.decide(domain, na));
            replies.add(render(postfix.withoutPolicy(domain, na,
                    new PolicyOutcome.NoPolicy("no TXT"))));
        }
        for (String r : replies) {
            if (r == null) {
                assertTrue(hosts.stream().noneMatch(h -> h.status() == HostTlsa.Status.UNUSABLE));
                continue;
            }
            assertTrue(r.equals("dane") || r.equals("dane-only"), r);
            assertEquals(Optional.empty(), PostfixPolicyRules.postfix37(r), r);
            assertEquals(Optional.empty(), PostfixPolicyRules.postfix310(r), r);
        }
    }

    /** The model catches the 3.10 deferral: the sender's map's DANE reply is no Postfix reply. */
    @Property(tries = 50)
    void reportRepliesForDaneAreNotForPostfix(@ForAll("hostSets") List<HostTlsa> hosts,
                                              @ForAll("hosts") String domain) {
        if (hosts.stream().noneMatch(h -> h.status() == HostTlsa.Status.USABLE)) {
            return;
        }
        String r = render(DaneDecision.forReports().decide(domain,
                new DaneLookup.Applies("secure", hosts, 60)));
        assertEquals(Optional.of("attribute \"policy_type\" has an unexpected value: \"tlsa\""),
                PostfixPolicyRules.postfix310(r), r);
    }

    private static String render(PolicyOutcome o) {
        if (o instanceof PolicyOutcome.Apply a) {
            return a.policy().render();
        }
        assertInstanceOf(PolicyOutcome.NoPolicy.class, o);
        return null;
    }
}
