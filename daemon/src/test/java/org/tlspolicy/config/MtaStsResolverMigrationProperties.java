package org.tlspolicy.config;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Whatever an mta-sts-daemon.yml holds, conversion either names what it refuses or yields a
 * configuration tlspolicyd accepts; and PyYAML's integer forms all mean the same number.
 */
class MtaStsResolverMigrationProperties {

    @Provide
    Arbitrary<String> documents() {
        Arbitrary<String> key = Arbitraries.of("host", "port", "path", "mode", "reuse_port",
                "shutdown_timeout", "cache_grace", "cache", "default_zone", "zones", "other");
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of("127.0.0.1", "::1", "0666", "0o600", "0x1f", "4.5", "yes", "no",
                        "/run/x.sock", "relative", "-1", "1e400", "NaN", "[]", "{}",
                        "{type: redis}", "{type: internal, options: {cache_size: 12}}",
                        "{strict_testing: maybe}", "{timeout: 3, strict_testing: on}",
                        "{a: {b: 1}}"),
                Arbitraries.strings().ofMaxLength(12).map(s -> "\"" + s.replace("\\", "\\\\")
                        .replace("\"", "'") + "\""),
                Arbitraries.integers().between(-100, 100_000).map(String::valueOf));
        return net.jqwik.api.Combinators.combine(key, value).as((k, v) -> k + ": " + v)
                .list().ofMaxSize(6).map(lines -> String.join("\n", lines) + "\n");
    }

    @Property
    void conversionNeverThrowsAnythingButAConfigExceptionAndAlwaysParses(
            @ForAll("documents") String doc) {
        try {
            ConfigLoader.parse(MtaStsResolverMigration.convert(doc).yaml());
        } catch (ConfigException refused) {
            // named, as the operator sees it
        }
    }

    @Property
    void arbitraryTextNeverThrowsAnythingButAConfigException(@ForAll String text) {
        try {
            MtaStsResolverMigration.convert(text);
        } catch (ConfigException refused) {
            // fine
        }
    }

    @Property
    void pyyamlIntegerFormsAgree(@ForAll("small") int n) throws ConfigException {
        assertEquals(n, MtaStsResolverMigration.integer(Integer.toString(n), "k"));
        assertEquals(n, MtaStsResolverMigration.integer("0" + Integer.toOctalString(n), "k"));
        assertEquals(n, MtaStsResolverMigration.integer("0o" + Integer.toOctalString(n), "k"));
        assertEquals(n, MtaStsResolverMigration.integer("0x" + Integer.toHexString(n), "k"));
    }

    @Provide
    Arbitrary<Integer> small() {
        return Arbitraries.integers().between(1, 1 << 20);
    }
}
