package org.tlspolicy.tlsrpt.rua;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 8460 §3 records: examples from the RFC, hostile ones, generated ones, anything at all. */
class TlsrptRecordProperties {

    private static List<String> uris(String record) {
        return TlsrptRecord.parse(record).orElseThrow().rua().stream()
                .map(ReportDestination::uri).toList();
    }

    @Example
    void rfcExamples() {
        assertEquals(List.of("mailto:reports@example.com"),
                uris("v=TLSRPTv1;rua=mailto:reports@example.com"));
        assertEquals(List.of("https://reporting.example.com/v1/tlsrpt"),
                uris("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"));
        assertEquals(2, uris("v=TLSRPTv1; rua=mailto:a@example.com,"
                + "https://r.example.com/x; ext=1").size());
        // Not a record: wrong version, no rua, rua twice, version not first.
        for (String bad : List.of("v=TLSRPTv2; rua=mailto:a@b.c", "v=TLSRPTv1;",
                "v=TLSRPTv1; rua=mailto:a@b.c; rua=mailto:d@e.f", "rua=mailto:a@b.c; v=TLSRPTv1",
                "v=TLSRPTv1 rua=mailto:a@b.c")) {
            assertEquals(Optional.empty(), TlsrptRecord.parse(bad), bad);
        }
        // A record whose URIs are all unusable: no destination, each refusal told.
        TlsrptRecord none = TlsrptRecord.parse("v=TLSRPTv1; rua=http://r.example.com/,"
                + "mailto:nobody").orElseThrow();
        assertEquals(List.of(), none.rua());
        assertEquals(2, none.refused().size());
    }

    /** Issue 34, finding 1: the record that made Postfix queue three messages from one report. */
    @Example
    void smtpCommandsInAMailtoAreRefused() {
        String hostile = "v=TLSRPTv1; rua=mailto:victim@victim.test%3E%0D%0ADATA%0D%0AFrom:"
                + "%20boss@victim.test%0D%0ASubject:%20urgent%0D%0A%0D%0Apay%0D%0A.%0D%0AMAIL"
                + "%09FROM:%3Cx@attacker.test%3E%0D%0ARCPT%20TO:%3Cy@attacker.test%3E,"
                + "mailto:tlsrpt@clean.test";
        TlsrptRecord r = TlsrptRecord.parse(hostile).orElseThrow();
        assertEquals(List.of("mailto:tlsrpt@clean.test"), r.rua().stream()
                .map(ReportDestination::uri).toList());
        assertEquals(1, r.refused().size());
        assertTrue(r.refused().get(0).reason().startsWith("not a mailbox"),
                r.refused().get(0).reason());
        for (String bad : List.of("mailto:a%0D%0A@b.test", "mailto:a@b.test%0D%0A",
                "mailto:a%00@b.test", "mailto:%3Ca@b.test", "mailto:a%20b@b.test",
                "mailto:a@b.test?subject=x", "mailto:a@[127.0.0.1]", "mailto:a@localhost",
                "mailto:%22a%0Ab%22@b.test", "mailto:a@b_c.test", "mailto:a@1.2.3.4",
                "https://user@r.example/", "http://r.example/", "ftp://r.example/",
                "https:///x", "https://r.example/#f")) {
            assertEquals(List.of(), TlsrptRecord.parse("v=TLSRPTv1; rua=" + bad)
                    .orElseThrow().rua(), bad);
        }
        // Quoted local parts that RFC 5321 allows still work.
        assertEquals(List.of("mailto:\"tls rpt\"@b.test"),
                uris("v=TLSRPTv1; rua=mailto:%22tls%20rpt%22@b.test"));
    }

    /** Issue 34, finding 3: repeated destinations count once, at most four are used. */
    @Example
    void destinationsAreDistinctAndBounded() {
        String many = IntStream.range(0, 220).mapToObj(i -> "mailto:" + i + "@t.test")
                .collect(Collectors.joining(","));
        TlsrptRecord r = TlsrptRecord.parse("v=TLSRPTv1; rua=mailto:0@t.test,"
                + "mailto:0@T.test," + many).orElseThrow();
        assertEquals(List.of("mailto:0@t.test", "mailto:1@t.test",
                "mailto:2@t.test", "mailto:3@t.test"), r.rua().stream()
                .map(ReportDestination::uri).toList());
        assertEquals(222 - 4, r.refused().size());
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
        List<String> distinct = uris.stream().distinct().limit(TlsrptRecord.MAX_DESTINATIONS)
                .toList();
        assertEquals(distinct, uris(text));
    }

    @Provide
    Arbitrary<List<String>> uriLists() {
        return ruas().list().ofMinSize(1).ofMaxSize(6);
    }

    @Property
    void anythingParsesOrNotButNeverYieldsAnUnsafeDestination(@ForAll String text) {
        TlsrptRecord.parse(text);
        TlsrptRecord.parse("v=TLSRPTv1; rua=mailto:" + text).ifPresent(r -> r.rua().forEach(
                d -> assertFalse(d.uri().chars().anyMatch(c -> c < 32 || c == 127
                        || c == '<' || c == '>'), d.uri())));
    }
}
