package org.tlspolicy.fleet;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.tlspolicy.cache.SharedTier;
import org.tlspolicy.cache.StoredDane;
import org.tlspolicy.cache.StoredPolicy;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The shared store's entries: what a relay writes, another reads back unchanged; any change
 * to a value, a value under another domain's key, another kind's key or another fleet's key
 * is rejected; an entry past its validity is expired; and no text whatever makes the parser
 * throw.
 */
class SharedEntryProperties {

    static final FleetKey KEY = FleetKey.of("the fleet key of the property tests, 32+ bytes"
            .getBytes(StandardCharsets.US_ASCII));
    static final FleetKey OTHER = FleetKey.of("another fleet's key, also long enough here"
            .getBytes(StandardCharsets.US_ASCII));
    static final long NOW = 1_800_000_000_000L;

    @Provide
    Arbitrary<String> domains() {
        return Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(20)
                .map(s -> s + ".test");
    }

    @Provide
    Arbitrary<SharedTier.StsEntry> stsEntries() {
        Arbitrary<SharedTier.StsEntry> policies = Combinators.combine(
                Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(32),
                Arbitraries.strings().ofMaxLength(300),
                Arbitraries.longs().between(NOW - 86_400_000L, NOW),
                Arbitraries.longs().between(NOW + 1, NOW + 31_557_600_000L))
                .as((id, body, fetched, expires) -> new SharedTier.PolicyEntry(
                        new StoredPolicy("x.test", id, body, fetched, expires, 0, 0)));
        Arbitrary<SharedTier.StsEntry> none = Combinators.combine(
                Arbitraries.strings().ofMaxLength(80),
                Arbitraries.longs().between(NOW + 1, NOW + 86_400_000L))
                .as(SharedTier.NoPolicyEntry::new);
        return Arbitraries.oneOf(policies, none);
    }

    /** The entry as the reader sees it: the domain is the key's, the relay's fields 0. */
    static SharedTier.StsEntry as(String domain, SharedTier.StsEntry e) {
        if (e instanceof SharedTier.PolicyEntry p) {
            StoredPolicy s = p.policy();
            return new SharedTier.PolicyEntry(new StoredPolicy(domain, s.id(), s.body(),
                    s.fetchedAt(), s.expiresAt(), 0, 0));
        }
        return e;
    }

    @Property
    void stsEntriesRoundTrip(@ForAll("domains") String domain,
                             @ForAll("stsEntries") SharedTier.StsEntry entry) {
        String value = SharedEntry.sts(KEY, domain, entry);
        SharedEntry.Read<SharedTier.StsEntry> read = SharedEntry.readSts(KEY, domain, value, NOW);
        assertEquals(new SharedEntry.Read.Found<>(as(domain, entry)), read);
    }

    @Property
    void daneResultsRoundTrip(@ForAll("domains") String domain, @ForAll String result,
                              @ForAll @IntRange(min = 1, max = 86_400) int ttl) {
        StoredDane d = new StoredDane(domain, result, NOW + ttl * 1000L);
        assertEquals(new SharedEntry.Read.Found<>(d),
                SharedEntry.readDane(KEY, domain, SharedEntry.dane(KEY, d), NOW));
    }

    @Property
    void anyChangedCharacterIsRejected(@ForAll("domains") String domain,
                                       @ForAll("stsEntries") SharedTier.StsEntry entry,
                                       @ForAll @IntRange(min = 0, max = 10_000) int where,
                                       @ForAll char replacement) {
        String value = SharedEntry.sts(KEY, domain, entry);
        int i = where % value.length();
        if (value.charAt(i) == replacement) {
            return;
        }
        String changed = value.substring(0, i) + replacement + value.substring(i + 1);
        SharedEntry.Read<SharedTier.StsEntry> read = SharedEntry.readSts(KEY, domain, changed,
                NOW);
        if (read instanceof SharedEntry.Read.Found<SharedTier.StsEntry> f) {
            // Base64url's last character may carry unused bits: then the bytes are the same.
            assertEquals(as(domain, entry), f.value(), changed);
        } else {
            assertInstanceOf(SharedEntry.Read.Rejected.class, read, changed);
        }
    }

    @Property
    void entriesOfAnotherDomainKindOrFleetAreRejected(
            @ForAll("domains") String domain, @ForAll("domains") String other,
            @ForAll("stsEntries") SharedTier.StsEntry entry) {
        String value = SharedEntry.sts(KEY, domain, entry);
        assertInstanceOf(SharedEntry.Read.Rejected.class,
                SharedEntry.readSts(OTHER, domain, value, NOW));
        assertInstanceOf(SharedEntry.Read.Rejected.class,
                SharedEntry.readDane(KEY, domain, value, NOW));
        if (!other.equals(domain)) {
            assertInstanceOf(SharedEntry.Read.Rejected.class,
                    SharedEntry.readSts(KEY, other, value, NOW));
        }
    }

    @Property
    void entriesPastTheirValidityAreExpired(@ForAll("domains") String domain,
                                            @ForAll("stsEntries") SharedTier.StsEntry entry) {
        String value = SharedEntry.sts(KEY, domain, entry);
        assertInstanceOf(SharedEntry.Read.Expired.class,
                SharedEntry.readSts(KEY, domain, value, entry.validUntil()));
    }

    @Property
    void noTextMakesTheParserThrow(@ForAll("domains") String domain, @ForAll String text) {
        assertNotNull(SharedEntry.readSts(KEY, domain, text, NOW));
        assertNotNull(SharedEntry.readDane(KEY, domain, text, NOW));
        assertNotNull(SharedEntry.readSts(KEY, domain, "v1 sts 9 " + text, NOW));
    }
}
