package org.tlspolicy.nexthop;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.net.IDN;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NextHopProperties {

    @Provide
    Arbitrary<String> hostNames() {
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z')
                .withCharRange('0', '9').ofMinLength(1).ofMaxLength(20);
        Arbitrary<String> tld = Arbitraries.strings().withCharRange('a', 'z')
                .ofMinLength(2).ofMaxLength(10);
        return label.list().ofMinSize(1).ofMaxSize(5)
                .flatMap(labels -> tld.map(t -> String.join(".", labels) + "." + t));
    }

    @Property
    void parsingNeverThrows(@ForAll String key) {
        NextHop.parse(key);
    }

    @Property
    void aDomainIsLowercaseLettersDigitsHyphensAndDots(@ForAll String key) {
        if (NextHop.parse(key) instanceof NextHop.Domain d) {
            assertTrue(d.name().matches("[a-z0-9.-]{1,253}"), d.name());
            assertTrue(!d.name().endsWith(".") && d.name().contains("."));
        }
    }

    /**
     * ASCII keys skip IDN.toASCII for speed: they must come out exactly as if they had gone
     * through it (same domain, or refused both ways).
     */
    @Property
    void asciiKeysParseAsThroughIdna(@ForAll("asciiNames") String key) {
        NextHop fast = NextHop.parse(key);
        String name = key.endsWith(".") ? key.substring(0, key.length() - 1) : key;
        String viaIdna;
        try {
            viaIdna = IDN.toASCII(name, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            assertInstanceOf(NextHop.NoLookup.class, fast, key);
            return;
        }
        // IDNA accepted it unchanged, so both ways check the same string with the same rules.
        assertEquals(name.toLowerCase(Locale.ROOT), viaIdna, key);
        if (fast instanceof NextHop.Domain d) {
            assertEquals(viaIdna, d.name(), key);
        }
    }

    @Provide
    Arbitrary<String> asciiNames() {
        return Arbitraries.strings().withChars("aAzZ09-._").ofMinLength(1).ofMaxLength(80);
    }

    @Property
    void normalisationIsIdempotent(@ForAll String key) {
        if (NextHop.parse(key) instanceof NextHop.Domain d) {
            assertEquals(d, NextHop.parse(d.name()));
        }
    }

    @Property
    void caseAndTrailingDotDoNotChangeTheDomain(@ForAll("hostNames") String name,
                                                @ForAll boolean dot) {
        NextHop.Domain d = assertInstanceOf(NextHop.Domain.class, NextHop.parse(name));
        String variant = name.toUpperCase(Locale.ROOT) + (dot ? "." : "");
        assertEquals(d, NextHop.parse(variant));
    }

    @Property
    void bracketedAndParentFormsNeverLookUp(@ForAll("hostNames") String name) {
        assertInstanceOf(NextHop.NoLookup.class, NextHop.parse("[" + name + "]"));
        assertInstanceOf(NextHop.NoLookup.class, NextHop.parse("[" + name + "]:25"));
        assertInstanceOf(NextHop.NoLookup.class, NextHop.parse("." + name));
    }

    @Property
    void ipv4LiteralsNeverLookUp(@ForAll byte a, @ForAll byte b, @ForAll byte c, @ForAll byte d) {
        String ip = (a & 0xff) + "." + (b & 0xff) + "." + (c & 0xff) + "." + (d & 0xff);
        assertInstanceOf(NextHop.NoLookup.class, NextHop.parse(ip));
    }
}
