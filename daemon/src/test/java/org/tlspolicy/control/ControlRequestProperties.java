package org.tlspolicy.control;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.NotBlank;
import net.jqwik.api.constraints.StringLength;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The control socket's requests, read back from the lines the command line writes. */
class ControlRequestProperties {

    @Provide
    Arbitrary<String> domains() {
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z')
                .withCharRange('0', '9').ofMinLength(1).ofMaxLength(20);
        // RFC 3696 §2: a top-level label is never all digits (NextHop reads that as an
        // address).
        return label.list().ofMinSize(2).ofMaxSize(4).map(l -> String.join(".", l))
                .filter(d -> !d.substring(d.lastIndexOf('.') + 1).matches("[0-9]+"));
    }

    @Property
    void purgeAndRefreshCarryTheirDomainAndReason(@ForAll("domains") String domain,
                                                  @ForAll @NotBlank @StringLength(max = 200)
                                                  @AlphaChars String reason) {
        String upper = domain.toUpperCase(Locale.ROOT);
        assertEquals(new ControlRequest.Purge(domain, reason.strip()),
                ControlRequest.parse("purge " + upper + ". " + reason));
        assertEquals(new ControlRequest.Refresh(domain, reason.strip()),
                ControlRequest.parse("refresh " + domain + " " + reason));
        assertEquals(new ControlRequest.Show(domain), ControlRequest.parse("show " + domain));
    }

    @Property
    void withoutAReasonNothingChanges(@ForAll("domains") String domain) {
        assertEquals(new ControlRequest.Invalid("purge needs a reason (it is logged)"),
                ControlRequest.parse("purge " + domain));
        assertEquals(new ControlRequest.Invalid("refresh needs a reason (it is logged)"),
                ControlRequest.parse("refresh " + domain + "   "));
    }
}
