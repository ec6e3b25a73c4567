package org.tlspolicy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.socketmap.ListenAddress;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConfigLoaderTest {

    private static String error(String yaml) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml)).getMessage();
    }

    @Test
    void embeddedDefaultsAreThePostfixMtaStsResolverCompatibleOnes() {
        DaemonConfig c = ConfigLoader.defaults();
        assertEquals("postfix", c.mapName());
        assertEquals(List.of(new ListenAddress.Tcp(new InetSocketAddress("127.0.0.1", 8461))),
                c.listen());
        assertEquals(Duration.ofSeconds(60), c.limits().idleTimeout());
        assertEquals(Duration.ofSeconds(30), c.limits().lookupTimeout());
        assertEquals(1024, c.limits().maxConnections());
        assertEquals("info", c.logLevel());
    }

    @Test
    void aFileOverridesOnlyWhatItNames() throws Exception {
        DaemonConfig c = ConfigLoader.parse("""
                socketmap:
                  map_name: tls
                  listen: ["[::1]:9000", "127.0.0.2:9001"]
                  idle_timeout: 2m
                  request_timeout: 1500ms
                """);
        assertEquals("tls", c.mapName());
        assertEquals(List.of(new ListenAddress.Tcp(new InetSocketAddress("::1", 9000)),
                new ListenAddress.Tcp(new InetSocketAddress("127.0.0.2", 9001))), c.listen());
        assertEquals(Duration.ofMinutes(2), c.limits().idleTimeout());
        assertEquals(Duration.ofMillis(1500), c.limits().requestTimeout());
        assertEquals(Duration.ofSeconds(30), c.limits().lookupTimeout());
    }

    @Test
    void readsAUnixSocketWithOwnershipAndOctalMode() throws Exception {
        DaemonConfig c = ConfigLoader.parse("""
                socketmap:
                  listen: []
                  unix_socket: {path: /var/spool/postfix/private/tlspolicy, owner: postfix,
                                group: postfix, mode: 0600}
                """);
        assertEquals(List.of(new ListenAddress.Unix(
                Path.of("/var/spool/postfix/private/tlspolicy"), Optional.of("postfix"),
                Optional.of("postfix"), PosixFilePermissions.fromString("rw-------"))),
                c.listen());
    }

    @Test
    void anEmptyFileMeansTheDefaults() throws Exception {
        assertEquals(ConfigLoader.defaults(), ConfigLoader.parse(""));
        assertEquals(ConfigLoader.defaults(), ConfigLoader.parse("# nothing\nsocketmap:\n"));
    }

    @Test
    void rejectsUnknownKeysNamingTheKnownOnes() {
        assertEquals("config key socketmap.port is unknown; known keys under socketmap: "
                        + "map_name, listen, allow_remote, unix_socket, max_connections, "
                        + "max_pipelined, idle_timeout, request_timeout, lookup_timeout, threads",
                error("socketmap:\n  port: 8461\n"));
        assertEquals("config key caches is unknown; known keys: socketmap, dns, mta_sts, dane, "
                + "cache, tlsrpt, postfix, metrics, control, overrides, shutdown_grace, log",
                error("caches: {}\n"));
    }

    @Test
    void overridesAreCheckedAsPostfixWouldReadThem() throws Exception {
        DaemonConfig c = ConfigLoader.parse("""
                overrides:
                  - {domain: Example.COM., policy: none, reason: "broken host", expires: 2026-12-31}
                  - {domain: example.net, policy: "secure match=mx1.example.net:.example.net \
                servername=hostname", reason: r}
                """);
        assertEquals("example.com", c.overrides().get(0).domain());
        assertEquals("none", c.overrides().get(0).policyText());
        assertEquals("2026-12-31", c.overrides().get(0).expires().orElseThrow().toString());
        assertEquals("secure match=mx1.example.net:.example.net servername=hostname",
                c.overrides().get(1).policyText());
        assertEquals("config key overrides[0].policy: \"secure\" is not usable: a secure policy "
                + "needs at least one match pattern", error("overrides: [{domain: a.example, "
                + "policy: secure, reason: r}]\n"));
        assertEquals("config key overrides[0].policy: \"tls\" is not usable: must be none or a "
                + "Postfix TLS policy starting with dane-only, dane, secure, encrypt or may",
                error("overrides: [{domain: a.example, policy: tls, reason: r}]\n"));
        assertEquals("config key overrides[0].reason: \"\" must say why (it is "
                + "logged with every decision it makes)", error("overrides: [{domain: "
                + "a.example, policy: none, reason: \"\"}]\n"));
        assertEquals("config key overrides[1].domain: \"a.example\" has an "
                + "override already: one per domain", error("overrides: [{domain: a.example, "
                + "policy: none, reason: r}, {domain: A.example, policy: none, reason: r}]\n"));
        assertEquals("config key overrides[0].expires: \"soon\" must be a day, "
                + "YYYY-MM-DD", error("overrides: [{domain: a.example, policy: none, "
                + "reason: r, expires: soon}]\n"));
        assertEquals("config key overrides[0].until is unknown; known keys: domain, policy, "
                + "reason, expires", error("overrides: [{domain: a.example, until: x}]\n"));
    }

    @Test
    void namesTheKeyTheValueAndWhatIsAllowed() {
        assertEquals("config key socketmap.idle_timeout: \"soon\" must be a duration from "
                        + "11000ms to 3600s with a unit, e.g. 500ms, 10s, 5m",
                error("socketmap: {idle_timeout: soon}"));
        assertEquals("config key socketmap.idle_timeout: \"5s\" must be a duration from "
                        + "11000ms to 3600s with a unit, e.g. 500ms, 10s, 5m",
                error("socketmap: {idle_timeout: 5s}"));
        assertEquals("config key socketmap.max_connections: 0 must be a whole number from 1 to "
                + "1000000", error("socketmap: {max_connections: 0}"));
        assertEquals("config key socketmap.allow_remote: \"yes please\" must be true or false",
                error("socketmap: {allow_remote: yes please}"));
        assertEquals("config key log.level: \"loud\" must be one of error, warn, info, debug, "
                + "trace", error("log: {level: loud}"));
        assertEquals("config key socketmap.unix_socket.mode: \"0999\" must be octal permissions "
                + "such as \"0660\"", error("socketmap: {unix_socket: {path: /s, mode: \"0999\"}}"));
    }

    @Test
    void refusesNonLoopbackListenersUnlessAllowed() throws Exception {
        String e = error("socketmap: {listen: [\"192.0.2.1:8461\"]}");
        assertEquals("config key socketmap.listen: \"192.0.2.1:8461\" is not a loopback address, "
                + "and the socketmap protocol has no authentication; set socketmap.allow_remote: "
                + "true to listen there anyway", e);
        DaemonConfig c = ConfigLoader.parse(
                "socketmap: {allow_remote: true, listen: [\"0.0.0.0:8461\"]}");
        assertEquals(new ListenAddress.Tcp(new InetSocketAddress("0.0.0.0", 8461)),
                c.listen().get(0));
    }

    @Test
    void refusesHostNamesAndBadPorts() {
        for (String bad : List.of("localhost:8461", "127.0.0.1", "127.0.0.1:-1", "127.0.0.1:70000",
                "::1:8461", "[::1]", "999.1.1.1:25")) {
            String e = error("socketmap: {listen: [\"" + bad + "\"]}");
            assertEquals("config key socketmap.listen: \"" + bad + "\" must be IP:PORT or "
                    + "[IPv6]:PORT with an IP literal and a port from 0 (any free port) to "
                    + "65535, e.g. 127.0.0.1:8461 or [::1]:8461", e);
        }
    }

    @Test
    void needsAtLeastOneListener() {
        assertEquals("config keys socketmap.listen and socketmap.unix_socket.path: at least one "
                + "listener is needed", error("socketmap: {listen: []}"));
    }

    @Test
    void rejectsMalformedYamlAndDuplicateKeys() {
        assertEquals(true, error("socketmap: [").startsWith("config is not valid YAML"));
        assertEquals(true, error("log: {level: info}\nlog: {level: debug}\n")
                .startsWith("config is not valid YAML"));
        assertEquals("config must be a YAML mapping of keys", error("- a\n- b\n"));
        assertEquals("config key socketmap: \"x\" must be a section of keys: map_name, listen, "
                + "allow_remote, unix_socket, max_connections, max_pipelined, idle_timeout, "
                + "request_timeout, lookup_timeout, threads", error("socketmap: x"));
    }

    @Test
    void anInstanceFileGetsItsOwnControlSocketAndCache(@TempDir Path dir) throws Exception {
        // Issue 32 §2: tlspolicyd@submission reads /etc/tlspolicyd/submission.yml.
        DaemonConfig second = ConfigLoader.load(Files.writeString(dir.resolve(
                "submission.yml"), "socketmap: {listen: [\"127.0.0.1:8471\"]}\n"));
        assertEquals(Optional.of(Path.of("/run/tlspolicyd-submission/control.sock")),
                second.controlSocket());
        assertEquals(Optional.of(Path.of("/var/lib/tlspolicyd-submission/cache.db")),
                second.cache().path());
        // The package's own file, and a name that is no instance name: the defaults.
        DaemonConfig first = ConfigLoader.load(Files.writeString(dir.resolve("tlspolicyd.yml"),
                ""));
        assertEquals(Optional.of(Path.of("/run/tlspolicyd/control.sock")),
                first.controlSocket());
        assertEquals(Optional.of(Path.of("/var/lib/tlspolicyd/cache.db")), first.cache().path());
        assertEquals(Optional.empty(), ConfigLoader.instance(Path.of("My Relay.yml")));
        assertEquals(Optional.of("out-2"), ConfigLoader.instance(Path.of("/x/out-2.yaml")));
        // What the file says still wins.
        DaemonConfig own = ConfigLoader.load(Files.writeString(dir.resolve("edge.yml"),
                "control: {socket: \"\"}\ncache: {path: /srv/edge.db}\n"));
        assertEquals(Optional.empty(), own.controlSocket());
        assertEquals(Optional.of(Path.of("/srv/edge.db")), own.cache().path());
    }

    @Test
    void reportsAnUnreadableFile(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.yml");
        String e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing))
                .getMessage();
        assertEquals(true, e.startsWith("cannot read config file " + missing), e);
        Path ok = dir.resolve("ok.yml");
        Files.writeString(ok, "socketmap: {map_name: x}\n");
        assertEquals("x", ConfigLoader.load(ok).mapName());
    }

    @Test
    void postfixKeysNameAnExecutableAndAnAbsoluteDirectory(@TempDir Path dir) throws Exception {
        DaemonConfig.Postfix none = ConfigLoader.defaults().postfix();
        assertEquals(Optional.empty(), none.postconf());
        assertEquals(Optional.empty(), none.configDirectory());
        Path wrapper = Files.writeString(dir.resolve("postconf"), "#!/bin/sh\n");
        wrapper.toFile().setExecutable(true);
        DaemonConfig c = ConfigLoader.parse("postfix: {postconf: \"" + wrapper
                + "\", config_directory: /etc/postfix-out}\n");
        assertEquals(Optional.of(wrapper), c.postfix().postconf());
        assertEquals(Optional.of(Path.of("/etc/postfix-out")), c.postfix().configDirectory());
        assertEquals("config key postfix.postconf: \"postconf\" must be the absolute path of an "
                + "executable postconf, or empty", error("postfix: {postconf: postconf}"));
        assertEquals("config key postfix.config_directory: \"etc\" must be an absolute path, "
                + "or empty", error("postfix: {config_directory: etc}"));
    }

    @Test
    void fleetModeNeedsAServerUriAndAFleetKeyOnlyItsRelaysCanRead(@TempDir Path dir)
            throws Exception {
        assertEquals(Optional.empty(), ConfigLoader.defaults().cache().shared());
        Path key = dir.resolve("fleet.key");
        Files.writeString(key, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYK\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        DaemonConfig c = ConfigLoader.parse("cache: {shared: {type: valkey, uri: "
                + "\"rediss://valkey.example:6380/2\", username: relay1, key_file: " + key
                + ", timeout: 100ms}}\n");
        assertEquals(Optional.of(new DaemonConfig.Shared("rediss://valkey.example:6380/2",
                Optional.of("relay1"), Optional.empty(), Optional.empty(), key,
                Duration.ofMillis(100))), c.cache().shared());

        String base = "cache: {shared: {type: redis, key_file: " + key + ", uri: ";
        assertEquals("config key cache.shared.uri: \"redis://u:p@h:6379\" must be "
                + "redis://HOST:PORT or rediss://HOST:PORT (TLS), optionally /DB; the user and "
                + "password go in cache.shared.username and password_file, not here",
                error(base + "\"redis://u:p@h:6379\"}}\n"));
        assertEquals(true, error(base + "\"http://h:6379\"}}\n")
                .startsWith("config key cache.shared.uri: "));
        assertEquals(true, error("cache: {shared: {type: valkey, uri: \"redis://h:6379\"}}\n")
                .startsWith("config key cache.shared.key_file: "));
        assertEquals(true, error("cache: {shared: {type: memcached}}\n")
                .endsWith("must be none, valkey or redis"));

        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(true, error(base + "\"redis://h:6379\"}}\n")
                .contains("is readable by others"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(key, "  short key\n");
        assertEquals(true, error(base + "\"redis://h:6379\"}}\n")
                .contains("holds 9 bytes; a fleet key needs at least 32"));
    }
}
