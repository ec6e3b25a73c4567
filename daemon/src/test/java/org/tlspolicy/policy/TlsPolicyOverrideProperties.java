package org.tlspolicy.policy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** An override's policy text is read back as the policy that renders it (config overrides:). */
class TlsPolicyOverrideProperties {

    @Provide
    Arbitrary<TlsPolicy> policies() {
        Arbitrary<String> pattern = Arbitraries.strings().withCharRange('a', 'z')
                .withChars('.').ofMinLength(1).ofMaxLength(20)
                .filter(s -> !s.startsWith("..") && !s.equals("."));
        Arbitrary<String> attribute = Arbitraries.of("servername=hostname", "protocols=>=TLSv1.2",
                "ciphers=high", "exclude=3DES");
        return Combinators.combine(Arbitraries.of(TlsPolicy.Level.values()),
                pattern.list().ofMinSize(1).ofMaxSize(4), attribute.list().ofMaxSize(3))
                .as((level, match, attributes) -> new TlsPolicy(level, level == TlsPolicy.Level
                        .SECURE ? match : List.of(), attributes));
    }

    @Property
    void theRenderedPolicyIsReadBack(@ForAll("policies") TlsPolicy policy) {
        assertEquals(Optional.of(policy), TlsPolicy.parseOverride(policy.render()));
        assertEquals(Optional.of(policy), TlsPolicy.parseOverride("  " + policy.render()
                .replace(" ", "   ") + " "));
    }
}
