package org.tlspolicy.tlsrpt.deliver;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.net.URI;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 8460 §3 records: examples from the RFC, generated records, and anything at all. */
class TlsrptRecordProperties {

    @Example
    void rfcExamples() {
        assertEquals(Optional.of(new TlsrptRecord(List.of(URI.create(
                "mailto:reports@example.com")))), TlsrptRecord.parse(
                "v=TLSRPTv1;rua=mailto:reports@example.com"));
        assertEquals(Optional.of(new TlsrptRecord(List.of(URI.create(
                "https://reporting.example.com/v1/tlsrpt")))), TlsrptRecord.parse(
                "v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"));
        assertEquals(2, TlsrptRecord.parse("v=TLSRPTv1; rua=mailto:a@example.com,"
                + "https://r.example.com/x; ext=1").orElseThrow().rua().size());
        // Not a record: wrong version, no rua, only unusable URIs, rua twice.
        for (String bad : List.of("v=TLSRPTv2; rua=mailto:a@b.c", "v=TLSRPTv1;",
                "v=TLSRPTv1; rua=http://r.example.com/", "v=TLSRPTv1; rua=mailto:nobody",
                "v=TLSRPTv1; rua=mailto:a@b.c; rua=mailto:d@e.f", "rua=mailto:a@b.c; v=TLSRPTv1",
                "v=TLSRPTv1 rua=mailto:a@b.c")) {
            assertEquals(Optional.empty(), TlsrptRecord.parse(bad), bad);
        }
    }

    @Example
    void selectionNeedsExactlyOneRecord() {
        String good = "v=TLSRPTv1; rua=mailto:a@example.com";
        assertTrue(TlsrptRecord.select(List.of("v=spf1 -all", good)).isPresent());
        assertEquals(Optional.empty(), TlsrptRecord.select(List.of(good, good)));
        assertEquals(Optional.empty(), TlsrptRecord.select(List.of("v=spf1 -all")));
    }

    @Provide
    Arbitrary<String> ruas() {
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1)
                .ofMaxLength(12);
        Arbitrary<String> mailto = label.list().ofSize(3).map(l -> "mailto:" + l.get(0) + "@"
                + l.get(1) + "." + l.get(2));
        Arbitrary<String> https = label.list().ofSize(3).map(l -> "https://" + l.get(0) + "."
                + l.get(1) + "/" + l.get(2));
        return Arbitraries.oneOf(mailto, https);
    }

    @Property
    void generatedRecordsKeepTheirUrisInOrder(@ForAll("uriLists") List<String> uris,
                                              @ForAll boolean spaces) {
        String sep = spaces ? " ; " : ";";
        String text = "v=TLSRPTv1" + sep + "rua=" + String.join(",", uris);
        assertEquals(uris.stream().map(URI::create).toList(),
                TlsrptRecord.parse(text).orElseThrow().rua());
    }

    @Provide
    Arbitrary<List<String>> uriLists() {
        return ruas().list().ofMinSize(1).ofMaxSize(5);
    }

    @Property
    void anythingParsesOrNotButNeverThrows(@ForAll String text) {
        TlsrptRecord.parse(text).ifPresent(r -> assertTrue(!r.rua().isEmpty()));
        TlsrptRecord.parse("v=TLSRPTv1; rua=" + text).ifPresent(r -> r.rua().forEach(u ->
                assertTrue(u.getScheme().equalsIgnoreCase("mailto")
                        || u.getScheme().equalsIgnoreCase("https"))));
    }
}
