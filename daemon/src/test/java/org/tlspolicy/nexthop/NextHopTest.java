package org.tlspolicy.nexthop;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NextHopTest {

    @ParameterizedTest
    @CsvSource({
        "example.com,            example.com",
        "Example.COM,            example.com",
        "example.com.,           example.com",
        "MX-1.Example.Net.,      mx-1.example.net",
        "bücher.example,         xn--bcher-kva.example",
        "BÜCHER.example,         xn--bcher-kva.example",
        "xn--bcher-kva.example,  xn--bcher-kva.example",
        "例え.テスト,               xn--r8jz45g.xn--zckzah",
        "a.b.c.d.e.example,      a.b.c.d.e.example",
        "123.example,            123.example",
        "example.xn--p1ai,       example.xn--p1ai",
    })
    void normalisesDomains(String key, String expected) {
        assertEquals(new NextHop.Domain(expected), NextHop.parse(key));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[mx.example.com]          | explicit relay",
        "[mx.example.com]:25       | explicit relay",
        "[192.0.2.1]:587           | explicit relay",
        "[ipv6:2001:db8::1]        | explicit relay",
        ".example.com              | parent-domain form",
        "example.com:587           | non-default port",
        "192.0.2.1                 | address literal",
        "192.0.2.1.                | address literal",
        "2001:db8::1               | address literal",
        "ipv6:2001:db8::1          | address literal",
        "localhost                 | single-label name",
        "''                        | empty key",
        "a..example                | not a valid domain name",
        "-a.example                | not a valid domain name",
        "a-.example                | not a valid domain name",
        "a_b.example               | not a valid domain name",
        "a b.example               | not a valid domain name",
        "a@b.example               | not a valid domain name",
        "\ufffd.example            | not a valid domain name",
    })
    void answersNonDomainsWithoutLookup(String key, String reasonStart) {
        NextHop.NoLookup n = assertInstanceOf(NextHop.NoLookup.class, NextHop.parse(key));
        assertTrue(n.reason().startsWith(reasonStart), n.reason());
    }

    @ParameterizedTest
    @ValueSource(ints = {63, 64})
    void limitsLabelsTo63Characters(int length) {
        NextHop n = NextHop.parse("a".repeat(length) + ".example");
        assertEquals(length <= 63, n instanceof NextHop.Domain);
    }

    @ParameterizedTest
    @ValueSource(ints = {253, 254})
    void limitsNamesTo253Characters(int length) {
        // labels of 49 'a' and dots, ending in ".example"
        StringBuilder b = new StringBuilder();
        while (b.length() < length - ".example".length()) {
            b.append('a');
            if ((b.length() + 1) % 50 == 0) {
                b.append('.');
            }
        }
        String name = b.toString().replaceAll("\\.$", "a") + ".example";
        assertEquals(length, name.length());
        assertEquals(length <= 253, NextHop.parse(name) instanceof NextHop.Domain);
    }
}
