package org.tlspolicy.policy;

import org.junit.jupiter.api.Test;
import org.tlspolicy.nexthop.NextHop;
import org.tlspolicy.socketmap.SocketmapReply;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PolicyTableTest {

    private final AtomicInteger resolutions = new AtomicInteger();

    /** Enforces MTA-STS for sts.example, defers defer.example, knows nothing else. */
    private CompletableFuture<PolicyOutcome> resolve(NextHop.Domain domain) {
        resolutions.incrementAndGet();
        return CompletableFuture.completedFuture(switch (domain.name()) {
            case "sts.example" -> new PolicyOutcome.Apply(new TlsPolicy(TlsPolicy.Level.SECURE,
                    List.of("mx1.sts.example", ".mx.sts.example"), List.of("servername=hostname")),
                    "mta-sts", "mode enforce");
            case "defer.example" -> new PolicyOutcome.Defer("DNSSEC validation failed");
            case "broken.example" -> throw new IllegalStateException("bug");
            default -> new PolicyOutcome.NoPolicy("no policy published");
        });
    }

    private final PolicyTable table = new PolicyTable("postfix", this::resolve);

    private String reply(String map, String key) {
        return table.lookup(map, key).join().payload();
    }

    @Test
    void answersEachOutcomeWithItsReply() {
        assertEquals("OK secure match=mx1.sts.example:.mx.sts.example servername=hostname",
                reply("postfix", "STS.example."));
        assertEquals("TEMP DNSSEC validation failed", reply("postfix", "defer.example"));
        assertEquals("NOTFOUND ", reply("postfix", "other.example"));
    }

    @Test
    void aResolverBugDefersInsteadOfDowngrading() {
        AtomicInteger calls = new AtomicInteger();
        PolicyTable failing = new PolicyTable("postfix", d -> {
            calls.incrementAndGet();
            return CompletableFuture.failedFuture(new IllegalStateException("bug"));
        });
        assertEquals("TEMP internal error", failing.lookup("postfix", "a.example").join().payload());
        assertEquals(1, calls.get());
        assertEquals("TEMP internal error", reply("postfix", "broken.example"));
    }

    @Test
    void keysThatCannotCarryAPolicyNeverReachTheResolver() {
        for (String key : List.of("[mx.sts.example]", "[mx.sts.example]:25", ".sts.example",
                "192.0.2.1", "sts.example:587", "", "localhost")) {
            assertEquals("NOTFOUND ", reply("postfix", key), key);
        }
        assertEquals(0, resolutions.get());
    }

    @Test
    void unknownMapsArePermanentErrors() {
        assertEquals("PERM unknown map name 'tls'", reply("tls", "sts.example"));
        table.mapName("tls");
        assertEquals("NOTFOUND ", reply("tls", "a.example"));
        assertEquals("PERM unknown map name 'postfix'", reply("postfix", "a.example"));
    }

    @Test
    void theDecisionLineIsGreppableKeyValue() {
        Decision d = table.decide("STS.example.").join();
        String line = d.logLine();
        assertEquals(true, line.matches("decision key=STS\\.example\\. domain=sts\\.example "
                + "reply=OK source=mta-sts policy=\"secure match=mx1\\.sts\\.example:"
                + "\\.mx\\.sts\\.example servername=hostname\" reason=\"mode enforce\" "
                + "ms=\\d+\\.\\d{3}"), line);
        String hostile = table.decide("a \"b\"\n").join().logLine();
        assertEquals(true, hostile.startsWith("decision key=\"a \\\"b\\\"\\x0a\" reply=NOTFOUND"),
                hostile);
    }

    @Test
    void aSecurePolicyNeverHasAnEmptyMatchList() {
        assertThrows(IllegalArgumentException.class,
                () -> new TlsPolicy(TlsPolicy.Level.SECURE, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new TlsPolicy(TlsPolicy.Level.SECURE, List.of("a:b"), List.of()));
        assertEquals("dane-only", new TlsPolicy(TlsPolicy.Level.DANE_ONLY, List.of(), List.of())
                .render());
    }

    @Test
    void replyForEachOutcomeKind() {
        assertEquals(SocketmapReply.NOT_FOUND, PolicyTable.reply(new PolicyOutcome.NoPolicy("x")));
    }
}
