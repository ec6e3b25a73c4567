package org.tlspolicy.mtasts;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StsParsersProperties {

    @Provide
    Arbitrary<String> ids() {
        return Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(32);
    }

    @Provide
    Arbitrary<String> hosts() {
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z')
                .withCharRange('0', '9').ofMinLength(1).ofMaxLength(12);
        return Combinators.combine(label.list().ofMinSize(1).ofMaxSize(3),
                        Arbitraries.strings().withCharRange('a', 'z').ofMinLength(2).ofMaxLength(6))
                .as((labels, tld) -> String.join(".", labels) + "." + tld);
    }

    @Property
    void txtParsingNeverThrows(@ForAll @Size(max = 4) List<String> records) {
        StsRecord.discover(records);
    }

    @Property
    void anyValidIdRoundTripsWithAnyWhitespaceAndTrailingDelimiter(
            @ForAll("ids") String id, @ForAll @IntRange(max = 2) int spaces,
            @ForAll boolean trailing) {
        String ws = " ".repeat(spaces);
        String txt = "v=STSv1;" + ws + "id=" + id + ws + (trailing ? ";" : "");
        assertEquals(id, assertInstanceOf(StsRecord.Discovery.Published.class,
                StsRecord.discover(List.of(txt))).record().id());
    }

    @Property
    void policyParsingNeverThrows(@ForAll String body) {
        StsPolicy.parse(body);
        StsPolicy.parse("version: STSv1\nmode: enforce\nmax_age: 1\nmx: " + body);
    }

    @Property
    void fieldOrderAndLineEndingsDoNotMatter(
            @ForAll @Size(min = 1, max = 5) List<@net.jqwik.api.From("hosts") String> mx,
            @ForAll @LongRange(max = StsPolicy.MAX_AGE_LIMIT) long maxAge,
            @ForAll boolean crlf, @ForAll long seed) {
        List<String> lines = new ArrayList<>(List.of("version: STSv1", "mode: enforce",
                "max_age: " + maxAge, "ext: ignored"));
        for (String host : mx) {
            lines.add("mx: " + host);
        }
        Collections.shuffle(lines, new Random(seed));
        String body = String.join(crlf ? "\r\n" : "\n", lines);
        StsPolicy p = assertInstanceOf(StsPolicy.Parse.Valid.class, StsPolicy.parse(body))
                .policy();
        assertEquals(maxAge, p.maxAgeSeconds());
        for (String host : mx) {
            assertTrue(p.allows(host), host);
        }
    }

    @Property
    void aWildcardMatchesOneMoreLabelOnly(@ForAll("hosts") String base,
                                          @ForAll("hosts") String extra) {
        MxPattern w = MxPattern.parse("*." + base).orElseThrow();
        String oneLabel = extra.substring(0, extra.indexOf('.'));
        assertTrue(w.matches(oneLabel + "." + base));
        assertTrue(!w.matches(base));
        assertTrue(!w.matches(extra + "." + base));
    }
}
