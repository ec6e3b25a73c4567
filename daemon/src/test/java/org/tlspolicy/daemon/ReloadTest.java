package org.tlspolicy.daemon;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tlspolicy.config.ConfigLoader;
import org.tlspolicy.socketmap.TestClient;
import org.tlspolicy.testworld.DaneWorld;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reload applies each setting it promises to, seen in the next lookup on a connection that
 * stays open; and a DNSSEC validation that cannot work is unhealthy in /health and in
 * systemd's STATUS= until a reload repairs it. Against {@link DaneWorld}'s real knotd and
 * unbound.
 */
@Timeout(120)
class ReloadTest {

    @TempDir
    static Path dir;

    static DaneWorld world;

    @BeforeAll
    static void start() throws Exception {
        world = DaneWorld.start(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        world.close();
    }

    /** The config file text: DANE against the world, MTA-STS off, {@code extra} first. */
    static String config(String extra, String anchorFile, int dnsPort) {
        return extra + """
                dns: {servers: ["127.0.0.1:%d"], timeout: 1s, attempts: 1}
                dane: {dnssec: validate, trust_anchor_file: "%s"}
                mta_sts: {enabled: false}
                cache: {path: ""}
                control: {socket: ""}
                tlsrpt: "off"
                """.formatted(dnsPort, anchorFile);
    }

    static HttpResponse<String> health(PolicyDaemon d) throws Exception {
        InetSocketAddress a = d.metricsAddress().orElseThrow();
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + a.getPort() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static <T> T await(java.util.concurrent.Callable<T> value, Predicate<T> until)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        T v = value.call();
        while (!until.test(v) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            v = value.call();
        }
        return v;
    }

    @Test
    void validationThatCannotWorkIsUnhealthyUntilAReloadRepairsIt() throws Exception {
        EpollEventLoopGroup group = new EpollEventLoopGroup(1);
        List<String> status = new CopyOnWriteArrayList<>();
        Path socket = dir.resolve("notify");
        Channel manager = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                        status.add(p.content().toString(StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(socket.toString())).sync().channel();
        String listen = "socketmap: {listen: [\"127.0.0.1:0\"]}\n"
                + "metrics: {listen: \"127.0.0.1:0\", tlsrpt_store: \"\"}\n";
        int dns = world.iteratingResolver().getPort();
        // The root's keys: test. is not under them, so nothing in this world validates.
        Path file = Files.writeString(dir.resolve("broken.yml"), config(listen, "", dns));
        try (PolicyDaemon d = PolicyDaemon.start(ConfigLoader.load(file), Optional.of(file),
                ServiceNotifier.to(socket.toString()));
             TestClient c = new TestClient(d.boundAddresses().get(0))) {
            HttpResponse<String> h = await(() -> health(d), r -> r.statusCode() == 503);
            assertEquals(503, h.statusCode(), h.body());
            assertTrue(h.body().startsWith("unhealthy\nproblem: DNSSEC validation fails (. SOA "),
                    h.body());
            // No answer for the root (no network here): the resolver is named, and the advice
            // is to make it reach the internet, not to point dns.servers elsewhere.
            assertTrue(h.body().contains("every DANE lookup defers mail; the resolver gets no "
                    + "answer: check that it runs and reaches the internet"), h.body());
            assertTrue(h.body().contains(" from 127.0.0.1:" + dns + " (dns.servers)"), h.body());
            Predicate<List<String>> problem = s -> s.stream().anyMatch(m -> m.contains(
                    "STATUS=PROBLEM: DNSSEC validation fails (. SOA "));
            assertTrue(problem.test(await(() -> status, problem)), status.toString());
            assertTrue(c.lookup("postfix", "dane-only.test").startsWith("TEMP "));

            Files.writeString(file, config(listen, world.trustAnchorFile().toString(), dns));
            d.reload();
            h = await(() -> health(d), r -> r.statusCode() == 200);
            assertEquals("ok\n", h.body());
            assertEquals("OK dane-only", c.lookup("postfix", "dane-only.test"));
            String last = await(() -> status.get(status.size() - 1),
                    m -> m.endsWith("STATUS=serving map postfix on [inet:127.0.0.1:0]"));
            assertTrue(last.endsWith("STATUS=serving map postfix on [inet:127.0.0.1:0]"),
                    status.toString());
        } finally {
            manager.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void eachReloadableSettingChangesTheNextLookup() throws Exception {
        String anchors = world.trustAnchorFile().toString();
        int dns = world.iteratingResolver().getPort();
        String listen = "socketmap: {listen: [\"127.0.0.1:0\"], max_connections: 8}\n";
        Path file = Files.writeString(dir.resolve("each.yml"), config(listen, anchors, dns));
        try (PolicyDaemon d = PolicyDaemon.start(ConfigLoader.load(file), Optional.of(file));
             TestClient c = new TestClient(d.boundAddresses().get(0))) {
            InetSocketAddress bound = (InetSocketAddress) d.boundAddresses().get(0);
            assertEquals("OK dane-only", c.lookup("postfix", "dane-only.test"));

            // dane.enabled: the next lookup has no DANE (and MTA-STS is off: no policy).
            Files.writeString(file, "dane: {enabled: false}\n" + config(listen, anchors, dns)
                    .replace("dane: {dnssec", "#"));
            d.reload();
            assertEquals("NOTFOUND ", c.lookup("postfix", "dane-only.test"));

            // dns.servers: DANE back on, asking a port where nothing answers; what is stored
            // still answers, a new domain cannot be resolved.
            Files.writeString(file, config(listen, anchors, 9));
            d.reload();
            assertEquals("OK dane-only", c.lookup("postfix", "dane-only.test"));
            assertTrue(c.lookup("postfix", "mixed.test").startsWith("TEMP "));
            Files.writeString(file, config(listen, anchors, dns));
            d.reload();
            assertEquals("OK dane", c.lookup("postfix", "cname.test").substring(0, 7));

            // log.level, at once.
            Files.writeString(file, "log: {level: debug}\n" + config(listen, anchors, dns));
            d.reload();
            assertEquals(Level.FINE, Logger.getLogger("").getLevel());
            Files.writeString(file, config(listen, anchors, dns));
            d.reload();
            assertEquals(Level.INFO, Logger.getLogger("").getLevel());

            // socketmap.max_connections: at 1, a newcomer takes the idle connection's place.
            Files.writeString(file, config(listen.replace("max_connections: 8",
                    "max_connections: 1"), anchors, dns));
            d.reload();
            try (TestClient second = new TestClient(bound)) {
                assertEquals("OK dane-only", second.lookup("postfix", "dane-only.test"));
                assertEquals(null, lookupOrNull(c, "dane-only.test"), "evicted");
            }

            // socketmap.listen needs a restart: the running listener stays, nothing else bound.
            Files.writeString(file, config("socketmap: {listen: [\"127.0.0.1:0\", "
                    + "\"127.0.0.2:0\"]}\n", anchors, dns));
            d.reload();
            assertEquals(List.of(bound), d.boundAddresses());
            try (TestClient third = new TestClient(bound)) {
                assertEquals("OK dane-only", third.lookup("postfix", "dane-only.test"));
            }
        }
    }

    /** Lookups resolved (not answered from memory) so far, from /metrics. */
    static long resolutions(PolicyDaemon d) throws Exception {
        InetSocketAddress a = d.metricsAddress().orElseThrow();
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + a.getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return text.lines().filter(l -> l.startsWith("tlspolicyd_resolution_seconds_count "))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(' ') + 1)))
                .findFirst().orElseThrow();
    }

    /**
     * A reload that leaves DNS, MTA-STS and DANE settings as they were (here: it adds an
     * override) keeps what memory held: a domain without MTA-STS (an answer the cache file
     * does not keep) and one with DANE are answered without being resolved again. A reload
     * that changes DNS starts from empty memory.
     */
    @Test
    void aReloadThatKeepsTheResolvingSettingsKeepsWhatMemoryHolds() throws Exception {
        String anchors = world.trustAnchorFile().toString();
        int dns = world.iteratingResolver().getPort();
        String listen = "socketmap: {listen: [\"127.0.0.1:0\"]}\n"
                + "metrics: {listen: \"127.0.0.1:0\", tlsrpt_store: \"\"}\n";
        String withSts = config(listen, anchors, dns).replace("mta_sts: {enabled: false}",
                "mta_sts: {enabled: true}");
        Path file = Files.writeString(dir.resolve("keep.yml"), withSts);
        try (PolicyDaemon d = PolicyDaemon.start(ConfigLoader.load(file), Optional.of(file));
             TestClient c = new TestClient(d.boundAddresses().get(0))) {
            assertEquals("NOTFOUND ", c.lookup("postfix", "nullmx.test"));
            assertEquals("OK dane-only", c.lookup("postfix", "dane-only.test"));
            long before = resolutions(d);
            assertEquals(2, before, "both resolved once");
            assertEquals("NOTFOUND ", c.lookup("postfix", "nullmx.test"));
            assertEquals(before, resolutions(d), "and then answered from memory");

            Files.writeString(file, """
                    overrides:
                      - {domain: broken.test, policy: none, reason: "ticket 1"}
                    """ + withSts);
            d.reload();
            assertEquals("NOTFOUND ", c.lookup("postfix", "nullmx.test"));
            assertEquals("OK dane-only", c.lookup("postfix", "dane-only.test"));
            assertEquals(before, resolutions(d), "memory kept across the reload");

            // Other DNS servers may answer otherwise: what memory held is dropped.
            Files.writeString(file, withSts.replace("attempts: 1", "attempts: 2"));
            d.reload();
            assertEquals("NOTFOUND ", c.lookup("postfix", "nullmx.test"));
            assertEquals(before + 1, resolutions(d), "resolved again");
        }
    }

    static String lookupOrNull(TestClient c, String domain) {
        try {
            return c.lookup("postfix", domain);
        } catch (IOException closed) {
            return null;
        }
    }
}
