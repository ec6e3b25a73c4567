package org.tlspolicy.mtasts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 8461 §3.2 and §4.1, rule by rule. */
class StsPolicyTest {

    private static StsPolicy valid(String body) {
        return assertInstanceOf(StsPolicy.Parse.Valid.class, StsPolicy.parse(body), body).policy();
    }

    private static String invalid(String body) {
        return assertInstanceOf(StsPolicy.Parse.Invalid.class, StsPolicy.parse(body), body)
                .reason();
    }

    @Test
    void parsesTheRfcExampleWithLfAndCrlf() {
        String lf = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
                + "mx: backupmx.example.com\nmax_age: 604800\n";
        StsPolicy p = valid(lf);
        assertEquals(StsPolicy.Mode.ENFORCE, p.mode());
        assertEquals(604800, p.maxAgeSeconds());
        assertEquals("mail.example.com,*.example.net,backupmx.example.com",
                p.mx().stream().map(MxPattern::toString).collect(Collectors.joining(",")));
        assertEquals(p, valid(lf.replace("\n", "\r\n")));
        assertEquals(p, valid(lf.strip())); // no final line break
    }

    @Test
    void toleratesWhitespaceAfterColonAndAtLineEndAndBlankLines() {
        StsPolicy p = valid("version:STSv1 \nmode:\ttesting\t\n\nmx:   MX.Example.COM  \n"
                + "max_age: 86400\r\n\r\n");
        assertEquals(StsPolicy.Mode.TESTING, p.mode());
        assertEquals("mx.example.com", p.mx().get(0).base());
    }

    @Test
    void ignoresUnknownKeys() {
        StsPolicy p = valid("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n"
                + "x-vendor.note: anything at all: even colons\n");
        assertEquals(1, p.mx().size());
    }

    @Test
    void modeNoneNeedsNoMx() {
        StsPolicy p = valid("version: STSv1\nmode: none\nmax_age: 86400\n");
        assertEquals(StsPolicy.Mode.NONE, p.mode());
        assertTrue(p.mx().isEmpty());
    }

    @Test
    void maxAgeBounds() {
        String head = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: ";
        assertEquals(0, valid(head + "0").maxAgeSeconds());
        assertEquals(31557600, valid(head + "31557600").maxAgeSeconds());
        assertEquals("max_age over 31557600: 31557601", invalid(head + "31557601"));
        assertEquals("max_age must be 1 to 10 digits: 12345678901", invalid(head + "12345678901"));
        assertEquals("max_age must be 1 to 10 digits: -1", invalid(head + "-1"));
        assertEquals("max_age must be 1 to 10 digits: 1d", invalid(head + "1d"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "mode: enforce\nmx: a.example\nmax_age: 1",                        // no version
        "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1",        // wrong version
        "version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1",        // case-sensitive
        "version: STSv1\nmx: a.example\nmax_age: 1",                       // no mode
        "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1",        // case-sensitive
        "version: STSv1\nmode: report\nmx: a.example\nmax_age: 1",         // unknown mode
        "version: STSv1\nmode: enforce\nmx: a.example",                     // no max_age
        "version: STSv1\nmode: enforce\nmax_age: 1",                        // no mx
        "version: STSv1\nmode: testing\nmax_age: 1",                        // no mx (testing)
        "version: STSv1\nversion: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1",
        "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nmax_age: 2",
        "version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1",       // two wildcards
        "version: STSv1\nmode: enforce\nmx: mx*.example\nmax_age: 1",       // partial wildcard
        "version: STSv1\nmode: enforce\nmx: *example.com\nmax_age: 1",
        "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1",
        "version: STSv1\nmode: enforce\nmx: mx.example.\nmax_age: 1",       // trailing dot
        "version: STSv1\nmode: enforce\nmx: bücher.example\nmax_age: 1",    // not an A-label
        "version: STSv1\nmode: enforce\nmx: 192.0.2.1\nmax_age: 1",         // address
        "version: STSv1\nmode: enforce\nmx: a.example b.example\nmax_age: 1",
        "version: STSv1\nmode: enforce\nmx:\nmax_age: 1",                   // empty value
        "version: STSv1\nmode: enforce\n mx: a.example\nmax_age: 1",        // leading WSP key
        "version STSv1\nmode: enforce\nmx: a.example\nmax_age: 1",          // no colon
        "<html><body>Not Found</body></html>",
    })
    void rejectsMalformedPolicies(String body) {
        invalid(body);
    }

    @Test
    void reasonsNameTheProblem() {
        assertEquals("no mx pattern", invalid("version: STSv1\nmode: enforce\nmax_age: 1"));
        assertEquals("malformed mx pattern: *.*.example",
                invalid("version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1"));
    }

    @Test
    void wildcardMatchesExactlyOneLeftmostLabel() {
        // RFC 8461 §4.1.
        MxPattern w = MxPattern.parse("*.example.com").orElseThrow();
        assertTrue(w.matches("mx1.example.com"));
        assertFalse(w.matches("example.com"));
        assertFalse(w.matches("a.mx1.example.com"));
        assertFalse(w.matches("mx1.example.com.evil"));
        assertFalse(w.matches("mx1example.com"));
        MxPattern plain = MxPattern.parse("mx.example.com").orElseThrow();
        assertTrue(plain.matches("mx.example.com"));
        assertFalse(plain.matches("a.mx.example.com"));
        StsPolicy p = valid("version: STSv1\nmode: enforce\nmx: mx.example.com\n"
                + "mx: *.backup.example\nmax_age: 1");
        assertTrue(p.allows("mx.example.com"));
        assertTrue(p.allows("b1.backup.example"));
        assertFalse(p.allows("evil.example"));
    }

    @Test
    void patternsBecomePostfixMatchElements() {
        assertEquals(List.of("mx.example.com", ".example.net"), List.of(
                MxPattern.parse("MX.Example.com").orElseThrow().postfixMatch(),
                MxPattern.parse("*.example.net").orElseThrow().postfixMatch()));
    }
}
