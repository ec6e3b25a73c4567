package org.tlspolicy.config;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.tlspolicy.socketmap.ListenAddress;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The container image's configuration: a file whose values come from the environment. */
class EnvironmentReferencesTest {

    private static final String FILE = """
            socketmap:
              listen: ["${TLSPOLICYD_LISTEN:-127.0.0.1:8461}"]
              allow_remote: ${TLSPOLICYD_ALLOW_REMOTE:-false}
            dns: {servers: [${TLSPOLICYD_DNS}]}
            control: {socket: ""}
            """;

    @Test
    void valuesComeFromTheEnvironmentOrTheirDefaults() throws Exception {
        DaemonConfig set = ConfigLoader.parse(EnvironmentReferences.resolve(FILE, Map.of(
                "TLSPOLICYD_LISTEN", "0.0.0.0:8461", "TLSPOLICYD_ALLOW_REMOTE", "true",
                "TLSPOLICYD_DNS", "\"192.0.2.53\"")));
        assertEquals(List.of(new ListenAddress.Tcp(new InetSocketAddress("0.0.0.0", 8461))),
                set.listen());
        assertEquals(List.of(new InetSocketAddress("192.0.2.53", 53)), set.dns().servers());
        DaemonConfig defaults = ConfigLoader.parse(EnvironmentReferences.resolve(FILE, Map.of(
                "TLSPOLICYD_DNS", "\"192.0.2.53\"", "TLSPOLICYD_LISTEN", "")));
        assertEquals(List.of(new ListenAddress.Tcp(new InetSocketAddress("127.0.0.1", 8461))),
                defaults.listen());
    }

    @Test
    void anUnsetReferenceWithoutDefaultNamesItsLine() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> EnvironmentReferences.resolve(FILE, Map.of()));
        assertEquals("line 4: ${TLSPOLICYD_DNS} is not set in the environment (give a default: "
                + "${TLSPOLICYD_DNS:-VALUE})", e.getMessage());
    }

    @Test
    void aValueCannotAddLines() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> EnvironmentReferences.resolve(FILE, Map.of("TLSPOLICYD_DNS",
                        "\"192.0.2.53\"]}\ncontrol: {socket: /tmp/x")));
        assertTrue(e.getMessage().contains("control character"), e.getMessage());
    }

    @Provide
    Arbitrary<String> plainTexts() {
        // Dollars, braces and lower-case names: everything but an upper-case reference.
        return Arbitraries.strings().withChars("ab$:{}-_ \n#\"'x1").ofMaxLength(200);
    }

    @Property(tries = 500)
    void textWithoutReferencesIsLeftAlone(@ForAll("plainTexts") String text) throws Exception {
        assertEquals(text, EnvironmentReferences.resolve(text, Map.of("a", "X", "x", "Y")));
    }

    @Property(tries = 500)
    void eachReferenceBecomesItsValueExactly(@ForAll("plainTexts") String before,
                                             @ForAll("plainTexts") String after,
                                             @ForAll("plainTexts") String value) throws Exception {
        String v = value.replace("\n", "");
        assertEquals(before + v + after, EnvironmentReferences.resolve(before + "${V_1}" + after,
                Map.of("V_1", v)));
    }
}
