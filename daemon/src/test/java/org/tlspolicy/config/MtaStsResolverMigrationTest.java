package org.tlspolicy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tlspolicy.socketmap.ListenAddress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mta-sts-daemon config converter, on the example files Debian's postfix-mta-sts-resolver
 * package ships (scripts/test installs it) and on the cases they do not show.
 */
class MtaStsResolverMigrationTest {

    static final Path EXAMPLES = Path.of("/usr/share/doc/postfix-mta-sts-resolver/examples");

    static DaemonConfig converted(String text) throws ConfigException {
        return ConfigLoader.parse(MtaStsResolverMigration.convert(text).yaml());
    }

    @ParameterizedTest
    @ValueSource(strings = {"mta-sts-daemon.yml.internal", "mta-sts-daemon.yml.sqlite",
        "mta-sts-daemon.yml.redis"})
    void debiansTcpExamplesKeepTheirListenerAndSettings(String name) throws Exception {
        String text = Files.readString(EXAMPLES.resolve(name));
        MtaStsResolverMigration.Result r = MtaStsResolverMigration.convert(text);
        DaemonConfig c = ConfigLoader.parse(r.yaml());
        assertEquals("[inet:127.0.0.1:8461]", c.listen().toString());
        assertEquals("postfix", c.mapName());
        assertEquals(Duration.ofSeconds(20), c.shutdownGrace());
        assertEquals(Duration.ofSeconds(4), c.mtaSts().fetchTimeout());
        assertEquals(false, c.mtaSts().strictTesting());
        // Every example has a zone "myzone", which one map name cannot serve: said, not dropped.
        assertTrue(r.notes().stream().anyMatch(n -> n.startsWith("zones [myzone]")), r.notes()
                .toString());
        assertTrue(r.yaml().lines().filter(l -> l.startsWith("# NOTE: ")).count()
                == r.notes().size(), r.yaml());
    }

    @Test
    void debiansUnixSocketExampleKeepsPathAndOctalMode() throws Exception {
        DaemonConfig c = converted(Files.readString(EXAMPLES.resolve(
                "mta-sts-daemon.yml.sqlite_unixsock")));
        // PyYAML reads "mode: 0666" as octal; so does the converter.
        assertEquals("[unix:/var/run/mta-sts.sock]", c.listen().toString());
        assertEquals(PosixFilePermissions.fromString("rw-rw-rw-"),
                ((ListenAddress.Unix) c.listen().get(0)).mode());
    }

    @Test
    void anEmptyFileIsTheDefaults() throws Exception {
        assertEquals(ConfigLoader.defaults(), converted(""));
        assertEquals(ConfigLoader.defaults(), converted("host: 127.0.0.1\nport: 8461\n"));
    }

    @Test
    void theRestOfWhatMtaStsDaemonReads() throws Exception {
        MtaStsResolverMigration.Result r = MtaStsResolverMigration.convert("""
                host: 0.0.0.0
                port: 18461
                cache_grace: 30
                default_zone: {strict_testing: yes, timeout: 2.5, require_sni: true}
                cache: {type: internal, options: {cache_size: 5000}}
                proactive_policy_fetching: {enabled: true}
                colour: blue
                """);
        DaemonConfig c = ConfigLoader.parse(r.yaml());
        assertEquals("[inet:0.0.0.0:18461]", c.listen().toString());
        assertTrue(c.mtaSts().strictTesting());
        assertEquals(Duration.ofMillis(2500), c.mtaSts().fetchTimeout());
        assertEquals(5000, c.cache().maxEntries());
        assertEquals(Duration.ofMinutes(1), c.cache().checkInterval());
        List<String> starts = r.notes().stream().map(n -> n.substring(0, n.indexOf(' '))).toList();
        assertEquals(List.of("key", "host", "default_zone.require_sni:", "cache", "cache_grace",
                "proactive_policy_fetching:"), starts);
    }

    @Test
    void whatCannotBeConvertedIsRefusedNamingTheKey() {
        assertEquals("mta-sts-daemon key host: mail.example is not an IP address; tlspolicyd "
                + "listens on IP literals only", assertThrows(ConfigException.class,
                () -> converted("host: mail.example\n")).getMessage());
        assertEquals("mta-sts-daemon key port: eighty is not a number", assertThrows(
                ConfigException.class, () -> converted("port: eighty\n")).getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> converted("port: 70000\n"))
                .getMessage().startsWith("config key socketmap.listen: \"127.0.0.1:70000\""));
        assertEquals("mta-sts-daemon config: cache must be a mapping", assertThrows(
                ConfigException.class, () -> converted("cache: sqlite\n")).getMessage());
    }
}
