package org.tlspolicy.dane;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The persisted form of DANE results (DNS-derived text read back from the store): every result
 * the resolver can produce round-trips, TLSA records round-trip through their presentation form,
 * and no text whatever makes the parsers throw or yield a result that breaks their invariants.
 */
class DaneLookupCodecProperties {

    @Provide
    Arbitrary<Tlsa> tlsa() {
        Arbitrary<Integer> small = Arbitraries.integers().between(0, 4);
        Arbitrary<String> hex = Arbitraries.strings().withChars("0123456789ABCDEFabcdef")
                .ofMinLength(1).ofMaxLength(40).map(s -> s.length() % 2 == 0 ? s : s + "0");
        Arbitrary<String> digest = Arbitraries.of(32, 64).flatMap(n -> Arbitraries.strings()
                .withChars("0123456789ABCDEF").ofLength(2 * n));
        return Combinators.combine(small, small, small, Arbitraries.oneOf(hex, digest))
                .as(Tlsa::new);
    }

    @Provide
    Arbitrary<String> hostNames() {
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z')
                .withChars('-', '_').ofMinLength(1).ofMaxLength(10);
        return label.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l) + ".test");
    }

    @Provide
    Arbitrary<String> text() {
        // Free text as it appears in reasons and details, newlines included.
        return Arbitraries.strings().ofMaxLength(60);
    }

    @Provide
    Arbitrary<HostTlsa> hosts() {
        return Combinators.combine(hostNames(), tlsa().list().ofMaxSize(4), text(),
                        Arbitraries.of(HostTlsa.Status.USABLE, HostTlsa.Status.UNUSABLE,
                                HostTlsa.Status.NONE))
                .as((host, records, detail, wanted) -> {
                    // Make the host consistent with what the resolver produces.
                    boolean usable = records.stream().anyMatch(Tlsa::usable);
                    if (wanted == HostTlsa.Status.NONE || records.isEmpty()) {
                        return new HostTlsa(host, HostTlsa.Status.NONE, "", List.of(),
                                oneLine(detail));
                    }
                    return new HostTlsa(host, usable ? HostTlsa.Status.USABLE
                            : HostTlsa.Status.UNUSABLE, "_25._tcp." + host, records,
                            oneLine(detail));
                });
    }

    static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }

    @Provide
    Arbitrary<DaneLookup> lookups() {
        Arbitrary<Long> ttl = Arbitraries.longs().between(0, 1L << 40);
        Arbitrary<String> mx = Arbitraries.of("secure", "insecure");
        Arbitrary<List<HostTlsa>> hostLists = hosts().list().ofMaxSize(5);
        Arbitrary<DaneLookup> applies = Combinators.combine(hostLists, hosts(), ttl)
                .as((hs, extra, t) -> {
                    List<HostTlsa> all = new ArrayList<>(hs);
                    all.add(new HostTlsa("usable.test", HostTlsa.Status.USABLE,
                            "_25._tcp.usable.test", List.of(new Tlsa(3, 1, 1, "AB".repeat(32))),
                            "addresses secure, TLSA secure"));
                    return new DaneLookup.Applies("secure", all, t);
                });
        Arbitrary<DaneLookup> notApplicable = Combinators.combine(text(), mx, hostLists, ttl)
                .as((reason, m, hs, t) -> new DaneLookup.NotApplicable(oneLine(reason), m,
                        hs.stream().filter(h -> h.status() != HostTlsa.Status.USABLE).toList(),
                        t));
        Arbitrary<DaneLookup> nullMx = Combinators.combine(mx, ttl).as(DaneLookup.NullMx::new);
        return Arbitraries.oneOf(applies, notApplicable, nullMx);
    }

    @Property
    void everyResultRoundTrips(@ForAll("lookups") DaneLookup lookup) {
        String text = DaneLookupCodec.format(lookup).orElseThrow();
        assertEquals(Optional.of(lookup), DaneLookupCodec.parse(text));
    }

    @Property
    void failedResultsAreNeverPersisted(@ForAll("text") String reason, @ForAll boolean bogus) {
        assertTrue(DaneLookupCodec.format(new DaneLookup.Failed(reason, bogus, "bogus",
                List.of())).isEmpty());
    }

    @Property
    void tlsaRoundTripsThroughPresentationForm(@ForAll("tlsa") Tlsa tlsa) {
        assertEquals(Optional.of(tlsa), Tlsa.parse(tlsa.toString()));
    }

    @Property
    void usableMeansDaneUsageKnownSelectorAndMatchingDigestLength(@ForAll("tlsa") Tlsa t) {
        int bytes = t.data().length() / 2;
        boolean expected = (t.usage() == 2 || t.usage() == 3) && t.selector() <= 1
                && (t.matchingType() == 0 || (t.matchingType() == 1 && bytes == 32)
                || (t.matchingType() == 2 && bytes == 64));
        assertEquals(expected, t.usable());
    }

    @Property
    void arbitraryTextNeverThrowsAndParsesOnlyToConsistentResults(@ForAll String text,
            @ForAll("lookups") DaneLookup lookup, @ForAll int cut) {
        checkInvariants(DaneLookupCodec.parse(text));
        checkInvariants(DaneLookupCodec.parse(text + "\n"));
        // Damaged stored text: a valid form cut anywhere, or with text spliced in.
        String valid = DaneLookupCodec.format(lookup).orElseThrow();
        int at = Math.floorMod(cut, valid.length() + 1);
        checkInvariants(DaneLookupCodec.parse(valid.substring(0, at)));
        checkInvariants(DaneLookupCodec.parse(valid.substring(0, at) + text
                + valid.substring(at)));
        Tlsa.parse(text);
    }

    /** What DaneDecision relies on in a parsed result. */
    static void checkInvariants(Optional<DaneLookup> parsed) {
        if (parsed.isEmpty()) {
            return;
        }
        DaneLookup l = parsed.get();
        assertTrue(l.ttl() >= 0);
        for (HostTlsa h : l.hosts()) {
            assertTrue(!h.status().failed());
            assertEquals(h.status() == HostTlsa.Status.USABLE,
                    h.records().stream().anyMatch(Tlsa::usable));
        }
        if (l instanceof DaneLookup.Applies a) {
            assertTrue(a.hosts().stream().anyMatch(h -> h.status() == HostTlsa.Status.USABLE));
        }
        if (l instanceof DaneLookup.NotApplicable n) {
            assertTrue(n.hosts().stream().noneMatch(h -> h.status() == HostTlsa.Status.USABLE));
        }
    }
}
