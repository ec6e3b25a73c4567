package org.tlspolicy.smtp;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 5321 §4.1.2 mailboxes and host-name domains: what is taken, what is refused. */
class MailboxProperties {

    @Example
    void validMailboxes() {
        assertEquals("tlsrpt@example.net", Mailbox.parse("tlsrpt@Example.NET.").toString());
        assertEquals("a.b+c@x.example", Mailbox.parse("a.b+c@x.example").toString());
        assertEquals("\"a b\"@x.example", Mailbox.parse("\"a b\"@x.example").toString());
        assertEquals("\"a\\\"b\"@x.example", Mailbox.parse("\"a\\\"b\"@x.example").toString());
        assertEquals("x@xn--bcher-kva.example", Mailbox.parse("x@bücher.example").toString());
    }

    @Example
    void refused() {
        for (String bad : List.of("", "@x.example", "a@", "a", "a@x", "a@[127.0.0.1]",
                "a@1.2.3.4", "a b@x.example", "a\r\n@x.example", "a@x.example\r\nDATA",
                "<a>@x.example", "a..b@x.example", ".a@x.example", "a.@x.example",
                "\"a\rb\"@x.example", "\"a>b\"@x.example", "\"ab@x.example", "a\u0000@x.ex",
                "a@-x.example", "a@x_y.example", "a@x.example>, \"b\"@y.example",
                "ä@x.example", "a".repeat(65) + "@x.example")) {
            assertThrows(IllegalArgumentException.class, () -> Mailbox.parse(bad), bad);
        }
    }

    @Property
    void whatIsTakenIsSafeInACommand(@ForAll String local, @ForAll String domain) {
        try {
            Mailbox m = Mailbox.parse(local + "@" + domain);
            String s = m.toString();
            assertTrue(s.chars().allMatch(c -> c >= 32 && c < 127 && c != '<' && c != '>'), s);
            assertEquals(m, Mailbox.parse(s));
        } catch (IllegalArgumentException expected) {
            // refused
        }
    }

    @Provide
    Arbitrary<String> labels() {
        return Arbitraries.strings().withCharRange('a', 'z').numeric().ofMinLength(1)
                .ofMaxLength(20).filter(s -> !s.chars().allMatch(Character::isDigit));
    }

    @Property
    void hostNamesRoundTrip(@ForAll("labels") String a, @ForAll("labels") String b) {
        Domain d = Domain.parse(a.toUpperCase() + "." + b + ".");
        assertEquals(a + "." + b, d.name());
        assertEquals(d, new Domain(d.name()));
    }
}
