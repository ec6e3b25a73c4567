package org.tlspolicy.mtasts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 8461 §3.1, rule by rule. */
class StsRecordTest {

    private static StsRecord.Discovery one(String txt) {
        return StsRecord.discover(List.of(txt));
    }

    private static String id(String txt) {
        return assertInstanceOf(StsRecord.Discovery.Published.class, one(txt)).record().id();
    }

    @Test
    void acceptsTheRfcExampleAndItsVariants() {
        assertEquals("20160831085700Z", id("v=STSv1; id=20160831085700Z;"));
        assertEquals("abc", id("v=STSv1; id=abc"));               // trailing ';' optional
        assertEquals("abc", id("v=STSv1;id=abc;"));               // WSP optional
        assertEquals("abc", id("v=STSv1; id=abc ;\t"));           // WSP around delimiters
        assertEquals("x".repeat(32), id("v=STSv1; id=" + "x".repeat(32)));
    }

    @Test
    void acceptsAndIgnoresExtensionFields() {
        assertEquals("abc", id("v=STSv1; ext=val; id=abc; a_b.c-d=!\"#$%&'()*+,-./:<>?@[]^_`{|}~"));
    }

    @Test
    void discardsRecordsThatDoNotBeginWithTheVersion() {
        // RFC 8461 §3.1: other records are discarded, so SPF-like noise is harmless.
        assertEquals("abc", assertInstanceOf(StsRecord.Discovery.Published.class,
                StsRecord.discover(List.of("v=spf1 -all", "v=STSv1; id=abc;", "id=x; v=STSv1;",
                        " v=STSv1; id=y;", "V=STSv1; id=z;"))).record().id());
        assertInstanceOf(StsRecord.Discovery.NotPublished.class,
                StsRecord.discover(List.of("v=spf1 -all", "v=STSv2; id=abc;", "v=STSv1 id=a")));
        assertInstanceOf(StsRecord.Discovery.NotPublished.class, StsRecord.discover(List.of()));
    }

    @Test
    void moreThanOneStsRecordMeansNone() {
        StsRecord.Discovery d = StsRecord.discover(List.of("v=STSv1; id=a;", "v=STSv1; id=b;"));
        assertEquals("2 STSv1 records",
                assertInstanceOf(StsRecord.Discovery.Invalid.class, d).reason());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "v=STSv1;",                           // no fields
        "v=STSv1; ext=1;",                    // no id
        "v=STSv1; id=;",                      // empty id
        "v=STSv1; id=a-b;",                   // id not alphanumeric
        "v=STSv1; id=abc def;",               // space inside id
        "v=STSv1; id=123456789012345678901234567890123;", // 33 characters
        "v=STSv1; id=a; id=b;",               // two ids
        "v=STSv1; id=a;; x=y",                // empty field in the middle
        "v=STSv1; id=a; novalue;",            // field without '='
        "v=STSv1; id=a; =x;",                 // empty name
        "v=STSv1; id=a; _x=1;",               // name must start with a letter or digit
        "v=STSv1; id=a; x=a=b;",              // '=' inside an extension value
        "v=STSv1; id=a; x=a b;",              // space inside an extension value
        "v=STSv1; id=a; x=;",                 // empty extension value
    })
    void rejectsMalformedRecords(String txt) {
        assertInstanceOf(StsRecord.Discovery.Invalid.class, one(txt), txt);
    }

    @Test
    void idIsCaseSensitiveFieldNameIsNot() {
        // %s"id=": the name is case-sensitive, so "ID=" is an extension and the id is missing.
        assertInstanceOf(StsRecord.Discovery.Invalid.class, one("v=STSv1; ID=abc;"));
        assertEquals("AbC", id("v=STSv1; id=AbC;"));
    }

    @Test
    void reasonsNameTheProblem() {
        StsRecord.Discovery d = one("v=STSv1; id=a_b;");
        assertTrue(assertInstanceOf(StsRecord.Discovery.Invalid.class, d).reason()
                .startsWith("id must be 1 to 32 letters and digits"));
    }
}
