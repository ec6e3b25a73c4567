package org.tlspolicy.dane;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MX RRsets as DNS gives them, in any order, with duplicates and null MX exchanges. */
class MxHostsProperties {

    static final Name OWNER = Name.fromConstantString("example.test.");

    @Provide
    Arbitrary<MXRecord> mx() {
        Arbitrary<Name> target = Arbitraries.oneOf(
                Arbitraries.just(Name.root),
                Arbitraries.of("mx1", "MX1", "mx2", "backup").map(
                        l -> Name.fromConstantString(l + ".example.test.")));
        return Combinators.combine(Arbitraries.integers().between(0, 65535), target)
                .as((pref, t) -> new MXRecord(OWNER, DClass.IN, 300, pref, t));
    }

    @Property
    void hostsComeMostPreferredFirstOnceEachLowerCaseAndNeverTheRoot(
            @ForAll("mxList") List<MXRecord> records) {
        MxHosts h = MxHosts.of(new ArrayList<Record>(records));
        assertEquals(h.hosts().size(), h.hosts().stream().distinct().count());
        for (String host : h.hosts()) {
            assertFalse(host.isEmpty() || host.endsWith(".") || !host.equals(host.toLowerCase()));
        }
        // Each host appears at the position of its most preferred record.
        List<String> expected = records.stream()
                .filter(r -> !r.getTarget().equals(Name.root))
                .sorted((a, b) -> Integer.compare(a.getPriority(), b.getPriority()))
                .map(r -> MxHosts.name(r.getTarget())).distinct().toList();
        assertEquals(expected, h.hosts());
        boolean onlyRoot = !records.isEmpty()
                && records.stream().allMatch(r -> r.getTarget().equals(Name.root));
        assertEquals(onlyRoot, h.nullMx());
        assertTrue(!h.nullMx() || h.hosts().isEmpty());
    }

    @Provide
    Arbitrary<List<MXRecord>> mxList() {
        return mx().list().ofMaxSize(8);
    }
}
