package org.tlspolicy.cli;

import org.junit.jupiter.api.Test;
import org.tlspolicy.cache.PolicyStore;
import org.tlspolicy.cache.StoredPolicy;
import org.tlspolicy.testworld.Isolated;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        CliAccess.Result r = CliAccess.run(args);
        return new Result(r.code(), r.out(), r.err());
    }

    @Test
    void queryExplainsADomainWithoutPolicy(@TempDir Path dir) throws Exception {
        // MTA-STS alone: with DANE on, unreachable DNS would defer (QueryDaneTest).
        Path config = Files.writeString(dir.resolve("c.yml"), Isolated.CONFIG
                + "dane: {enabled: false}\n");
        Result r = run("query", "--config", config.toString(), "Example.COM.");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("\ndomain:         example.com\n"), r.out());
        assertTrue(r.out().contains("\ncache:          memory only"), r.out());
        assertTrue(r.out().contains("\nresolution:     fresh\n"), r.out());
        assertTrue(r.out().contains("\ntxt:            (none) TXT lookup failed"), r.out());
        assertTrue(r.out().contains("\nstatus:         NOTFOUND\n"), r.out());
        assertTrue(r.out().contains("\nreply:          NOTFOUND \n"), r.out());
    }

    @Test
    void queryAnswersFromTheDaemonsCacheFileUnlessToldNotTo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cache.db");
        long now = System.currentTimeMillis();
        try (PolicyStore store = PolicyStore.open(Optional.of(file))) {
            store.put(new StoredPolicy("example.com", "abc", "version: STSv1\nmode: enforce\n"
                    + "mx: mx.example.net\nmax_age: 86400\n", now - 3_600_000,
                    now + 82_800_000, now + 39_600_000, now)).get();
        }
        Path config = Files.writeString(dir.resolve("c.yml"), Isolated.CONFIG
                .replace("cache: {path: \"\"}", "cache: {path: \"" + file + "\"}")
                + "dane: {enabled: false}\n");
        Result cached = run("query", "--config", config.toString(), "example.com");
        assertEquals(0, cached.code());
        assertTrue(cached.out().contains("\ncache:          policy id=abc fetched 1h0m ago, "
                + "expires in 22h59m"), cached.out());
        assertTrue(cached.out().contains("\nreply:          OK secure match=mx.example.net "
                + "servername=hostname\n"), cached.out());
        Result fresh = run("query", "--config", config.toString(), "--no-cache", "example.com");
        assertTrue(fresh.out().contains("\nresolution:     fresh\n"), fresh.out());
        assertTrue(fresh.out().contains("\nreply:          NOTFOUND \n"), fresh.out());
    }

    @Test
    void queryPrintsJsonForScripts(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("q.yml"), "cache: {path: \"\"}\n");
        Result r = run("query", "--config", config.toString(), "--json", "[mx.example.com]:25");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("{\"config\":\"" + config + "\","
                + "\"key\":\"[mx.example.com]:25\","
                + "\"next_hop\":\"not a policy domain\","
                + "\"reason\":\"explicit relay: no MX lookup, no domain policy applies\","
                + "\"status\":\"NOTFOUND\",\"reply\":\"NOTFOUND \",\"total_ms\":"), r.out());
    }

    /**
     * Issue 35, §3: doctor, query and cache read the package's file by default, as the unit
     * does, so that they check the setup the daemon runs; a given --config wins.
     */
    @Test
    void clientCommandsReadThePackagesConfigByDefault(@TempDir Path dir) throws Exception {
        Path packaged = dir.resolve("tlspolicyd.yml");
        assertEquals(null, Main.configFile(null, packaged));
        Files.writeString(packaged, "");
        assertEquals(packaged, Main.configFile(null, packaged));
        Path given = dir.resolve("other.yml");
        assertEquals(given, Main.configFile(given, packaged));
        assertEquals("embedded defaults (no /etc/tlspolicyd/tlspolicyd.yml)",
                Main.describeConfig(null));
    }

    @Test
    void anInvalidConfigExitsOneNamingTheKey(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("c.yml");
        Files.writeString(config, "socketmap: {threads: -1}\n");
        Result r = run("serve", "--config", config.toString());
        assertEquals(1, r.code());
        assertEquals("tlspolicyd: config key socketmap.threads: -1 must be a whole number from 0 "
                + "to 256\n", r.err());
        assertEquals(1, run("query", "--config", config.toString(), "example.com").code());
    }

    @Test
    void convertConfigPrintsAConfigTlspolicydAccepts(@TempDir Path dir) throws Exception {
        Path old = Files.writeString(dir.resolve("mta-sts-daemon.yml"),
                "path: /run/mta-sts.sock\nmode: 0660\ndefault_zone: {strict_testing: true}\n");
        Result r = run("convert-config", old.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("# tlspolicyd configuration converted from "
                + "mta-sts-daemon's.\n# NOTE: the unix socket is now owned by"), r.out());
        Path converted = Files.writeString(dir.resolve("tlspolicyd.yml"), r.out());
        org.tlspolicy.config.DaemonConfig c = org.tlspolicy.config.ConfigLoader.load(converted);
        assertEquals("[unix:/run/mta-sts.sock]", c.listen().toString());
        assertTrue(c.mtaSts().strictTesting());
        Result bad = run("convert-config", Files.writeString(dir.resolve("bad.yml"),
                "host: mail.example\n").toString());
        assertEquals(1, bad.code());
        assertEquals("tlspolicyd: mta-sts-daemon key host: mail.example is not an IP address; "
                + "tlspolicyd listens on IP literals only\n", bad.err());
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run("query").code());
        assertEquals(2, run("serve", "--bogus").code());
    }

    @Test
    void printsTheDefaultConfigurationAndTheVersion() {
        Result r = run("serve", "--print-default-config");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("map_name: postfix"));
        Result v = run("version");
        assertTrue(v.out().matches("tlspolicyd \\S+ \\(Java .*\\)\\n"), v.out());
    }

    @Test
    void mainRunReturnsTheExitCode() {
        assertEquals(0, Main.run("version"));
        assertEquals(2, Main.run("nonsense"));
    }
}
