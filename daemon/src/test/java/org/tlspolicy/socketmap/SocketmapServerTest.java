package org.tlspolicy.socketmap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server over real sockets, with a table whose keys choose its behaviour. */
@Timeout(60)
class SocketmapServerTest {

    private static final SocketmapLimits LIMITS = new SocketmapLimits(1000,
            Duration.ofSeconds(30), Duration.ofMillis(500), Duration.ofSeconds(2), 16);

    private final AtomicInteger lookups = new AtomicInteger();
    private SocketmapServer server;

    /**
     * {@code slow:N} answers after N ms, {@code never} never answers, anything else answers
     * {@code OK echo=KEY} at once. Only the map {@code postfix} exists.
     */
    private CompletableFuture<SocketmapReply> table(String map, String key) {
        lookups.incrementAndGet();
        if (!map.equals("postfix")) {
            return CompletableFuture.completedFuture(new SocketmapReply.Perm("unknown map"));
        }
        if (key.startsWith("slow:")) {
            long ms = Long.parseLong(key.substring(5));
            return CompletableFuture.supplyAsync(() -> SocketmapReply.ok("echo=" + key),
                    CompletableFuture.delayedExecutor(ms, TimeUnit.MILLISECONDS));
        }
        if (key.equals("never")) {
            return new CompletableFuture<>();
        }
        return CompletableFuture.completedFuture(key.isEmpty()
                ? SocketmapReply.NOT_FOUND : SocketmapReply.ok("echo=" + key));
    }

    private SocketAddress start(SocketmapLimits limits) throws IOException {
        server = new SocketmapServer(this::table, limits, 2);
        return server.bind(List.of(new ListenAddress.Tcp(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))).get(0);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close(Duration.ofSeconds(1));
        }
    }

    @Test
    void answersPipelinedRequestsInRequestOrderWhateverTheirSpeed() throws Exception {
        SocketAddress address = start(LIMITS);
        try (TestClient c = new TestClient(address)) {
            c.send(new String(Netstring.encode("postfix slow:300")) + new String(Netstring.encode(
                    "postfix fast")) + new String(Netstring.encode("postfix slow:100")));
            assertEquals("OK echo=slow:300", c.readReply());
            assertEquals("OK echo=fast", c.readReply());
            assertEquals("OK echo=slow:100", c.readReply());
        }
    }

    /**
     * Issue 34, finding 9: 0.0.0.0 means IPv4 (Java would bind it dual-stack and take IPv6 too),
     * and a listener off loopback is warned about at start, one line.
     */
    @Test
    void anyIpv4AddressBindsIpv4OnlyAndIsWarnedAbout() throws Exception {
        java.util.List<java.util.logging.LogRecord> logged =
                new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger l = java.util.logging.Logger.getLogger(
                SocketmapServer.class.getName());
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        l.addHandler(capture);
        try {
            server = new SocketmapServer(this::table, LIMITS, 1);
            InetSocketAddress bound = (InetSocketAddress) server.bind(List.of(
                    new ListenAddress.Tcp(new InetSocketAddress(InetAddress.getByName("0.0.0.0"),
                            0)))).get(0);
            try (TestClient c = new TestClient(new InetSocketAddress("127.0.0.1",
                    bound.getPort()))) {
                assertEquals("OK echo=a.test", c.lookup("postfix", "a.test"));
            }
            try (java.net.Socket v6 = new java.net.Socket()) {
                assertThrows(java.net.ConnectException.class, () -> v6.connect(
                        new InetSocketAddress(InetAddress.getByName("::1"), bound.getPort()),
                        5000));
            }
            assertEquals(1, logged.stream().filter(r -> r.getMessage().contains(
                    "is not loopback")).count());
        } finally {
            l.removeHandler(capture);
        }
    }

    @Test
    void listensOnIpv6LoopbackToo() throws Exception {
        server = new SocketmapServer(this::table, LIMITS, 1);
        List<SocketAddress> bound = server.bind(List.of(
                new ListenAddress.Tcp(new InetSocketAddress(InetAddress.getByName("::1"), 0)),
                new ListenAddress.Tcp(new InetSocketAddress(InetAddress.getByName("127.0.0.1"),
                        0))));
        for (SocketAddress address : bound) {
            try (TestClient c = new TestClient(address)) {
                assertEquals("OK echo=example.com", c.lookup("postfix", "example.com"), "" + address);
            }
        }
    }

    @Test
    void reassemblesRequestsSentOneByteAtATime() throws Exception {
        SocketAddress address = start(LIMITS);
        try (TestClient c = new TestClient(address)) {
            for (byte b : Netstring.encode("postfix example.com")) {
                c.send(new byte[] {b});
                Thread.sleep(2);
            }
            assertEquals("OK echo=example.com", c.readReply());
            assertEquals("NOTFOUND ", c.lookup("postfix", ""));
        }
    }

    @Test
    void answersTheLargestRequestAndRefusesOneByteMore() throws Exception {
        SocketAddress address = start(LIMITS);
        String key = "k".repeat(Netstring.MAX_REQUEST_PAYLOAD - "postfix ".length());
        try (TestClient c = new TestClient(address)) {
            assertEquals("OK echo=" + key, c.lookup("postfix", key));
            assertEquals("PERM request longer than 10000 bytes", c.lookup("postfix", key + "k"));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void garbageGetsPermAndClosesOnlyThatConnection() throws Exception {
        SocketAddress address = start(LIMITS);
        try (TestClient healthy = new TestClient(address);
             TestClient hostile = new TestClient(address)) {
            assertEquals("OK echo=a.example", healthy.lookup("postfix", "a.example"));
            hostile.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            String reply = hostile.readReply();
            assertTrue(reply.startsWith("PERM bad netstring length"), reply);
            assertTrue(hostile.closedByServer());
            assertEquals("OK echo=b.example", healthy.lookup("postfix", "b.example"));
        }
    }

    @Test
    void neverAnswersOkToMalformedInput() throws Exception {
        SocketAddress address = start(LIMITS);
        String[] hostile = {"3:abc,", "5:a b c;", "-1:x,", "99999999999999999:", ":,",
            "4:\u0000\u0000\u0000\u0000,", "00000000000000000000000"};
        for (String input : hostile) {
            try (TestClient c = new TestClient(address)) {
                c.send(input);
                String reply = c.readReply();
                assertTrue(reply.startsWith("PERM "), input + " -> " + reply);
                assertTrue(c.closedByServer(), input);
            }
        }
    }

    @Test
    void unknownMapNameGetsPermAndKeepsTheConnection() throws Exception {
        SocketAddress address = start(LIMITS);
        try (TestClient c = new TestClient(address)) {
            assertEquals("PERM unknown map", c.lookup("other", "example.com"));
            assertEquals("OK echo=example.com", c.lookup("postfix", "example.com"));
        }
    }

    @Test
    void aStalledHalfRequestIsCutOffWhileOthersAreServed() throws Exception {
        SocketAddress address = start(LIMITS);
        try (TestClient stalled = new TestClient(address);
             TestClient healthy = new TestClient(address)) {
            stalled.send("19:postfix exam");
            long start = System.nanoTime();
            int answered = 0;
            while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(300)) {
                assertEquals("OK echo=example.com", healthy.lookup("postfix", "example.com"));
                answered++;
            }
            assertTrue(answered > 10, "healthy client served while the other stalls");
            assertTrue(stalled.closedByServer(), "stalled client cut off");
            long waited = System.nanoTime() - start;
            assertTrue(waited < TimeUnit.SECONDS.toNanos(5));
            assertEquals("OK echo=x.example", healthy.lookup("postfix", "x.example"));
        }
    }

    @Test
    void closesIdleConnections() throws Exception {
        SocketAddress address = start(new SocketmapLimits(10, Duration.ofMillis(300),
                Duration.ofSeconds(5), Duration.ofSeconds(5), 16));
        try (TestClient c = new TestClient(address)) {
            assertEquals("OK echo=a.example", c.lookup("postfix", "a.example"));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void slowLookupsGetTimeout() throws Exception {
        SocketAddress address = start(new SocketmapLimits(10, Duration.ofSeconds(30),
                Duration.ofSeconds(5), Duration.ofMillis(200), 16));
        try (TestClient c = new TestClient(address)) {
            assertEquals("TIMEOUT lookup took longer than 200 ms", c.lookup("postfix", "never"));
            assertEquals("OK echo=a.example", c.lookup("postfix", "a.example"));
        }
    }

    /** At the limit, the longest-idle connection makes room for a new one (issue 17). */
    @Test
    void atTheLimitTheLongestIdleConnectionMakesRoom() throws Exception {
        SocketAddress address = start(new SocketmapLimits(3, Duration.ofSeconds(30),
                Duration.ofSeconds(5), Duration.ofSeconds(5), 16));
        List<TestClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                TestClient c = new TestClient(address);
                clients.add(c);
                assertEquals("OK echo=a.example", c.lookup("postfix", "a.example"));
                Thread.sleep(20);
            }
            // The second and third were used since the first: the first goes.
            assertEquals("OK echo=b.example", clients.get(2).lookup("postfix", "b.example"));
            assertEquals("OK echo=b.example", clients.get(1).lookup("postfix", "b.example"));
            try (TestClient extra = new TestClient(address)) {
                assertEquals("OK echo=c.example", extra.lookup("postfix", "c.example"));
                assertTrue(clients.get(0).closedByServer(), "the longest idle was closed");
                assertEquals("OK echo=d.example", clients.get(1).lookup("postfix", "d.example"));
                assertEquals(3, server.openConnections());
            }
        } finally {
            for (TestClient c : clients) {
                c.close();
            }
        }
    }

    /**
     * One local process holding every connection (the default 1024; 40 here) locks nobody out:
     * Postfix's new connections take the place of its idle ones, from its address or another.
     * Connections kept busy are only given up to a peer under its fair share; a newcomer of
     * the hogging peer itself is refused then.
     */
    @Test
    void aPeerHoldingEveryConnectionLocksNobodyOut() throws Exception {
        SocketAddress address = start(new SocketmapLimits(40, Duration.ofSeconds(30),
                Duration.ofSeconds(30), Duration.ofSeconds(30), 16));
        java.net.InetAddress hog = java.net.InetAddress.getByName("127.0.0.2");
        java.net.InetAddress postfix = java.net.InetAddress.getByName("127.0.0.3");
        List<TestClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                held.add(new TestClient(address, hog)); // idle: connected, never asking
            }
            waitFor(() -> server.openConnections() == 40);
            for (int i = 0; i < 5; i++) {
                try (TestClient c = new TestClient(address, postfix)) {
                    assertEquals("OK echo=p" + i + ".example",
                            c.lookup("postfix", "p" + i + ".example"));
                }
                try (TestClient c = new TestClient(address, hog)) {
                    assertEquals("OK echo=h" + i + ".example",
                            c.lookup("postfix", "h" + i + ".example"));
                }
            }
            for (TestClient c : held) {
                c.close();
            }
            held.clear();
            waitFor(() -> server.openConnections() == 0);
            // Now every connection of the hog waits for an answer (a lookup that never ends).
            for (int i = 0; i < 40; i++) {
                TestClient c = new TestClient(address, hog);
                c.send(Netstring.encode("postfix never"));
                held.add(c);
            }
            waitFor(() -> server.openConnections() == 40);
            Thread.sleep(100);
            try (TestClient c = new TestClient(address, hog)) {
                assertTrue(c.closedByServer(), "the hog's own newcomer is refused");
            }
            try (TestClient c = new TestClient(address, postfix)) {
                assertEquals("OK echo=x.example", c.lookup("postfix", "x.example"));
            }
        } finally {
            for (TestClient c : held) {
                c.close();
            }
        }
    }

    @Test
    void servesFiveHundredConcurrentConnections() throws Exception {
        SocketAddress address = start(LIMITS);
        int connections = 500;
        ExecutorService pool = Executors.newFixedThreadPool(50);
        try {
            List<TestClient> clients = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                clients.add(new TestClient(address)); // all open at once
            }
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                TestClient c = clients.get(i);
                int id = i;
                results.add(pool.submit(() -> {
                    int ok = 0;
                    for (int j = 0; j < 10; j++) {
                        String key = "d" + id + "-" + j + ".example";
                        if (c.lookup("postfix", key).equals("OK echo=" + key)) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            int ok = 0;
            for (Future<Integer> f : results) {
                ok += f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(connections * 10, ok);
            assertEquals(connections, server.openConnections());
            for (TestClient c : clients) {
                c.close();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void survivesClientsVanishingMidRequestAndMidLookup() throws Exception {
        SocketAddress address = start(LIMITS);
        for (int i = 0; i < 50; i++) {
            try (TestClient c = new TestClient(address)) {
                c.send(i % 2 == 0 ? "19:postfix exa" : new String(Netstring.encode(
                        "postfix slow:50")));
            }
        }
        Thread.sleep(200); // let the slow lookups complete towards closed connections
        waitFor(() -> server.openConnections() == 0);
        try (TestClient c = new TestClient(address)) {
            assertEquals("OK echo=after.example", c.lookup("postfix", "after.example"));
        }
    }

    @Test
    void backpressureStillAnswersEveryPipelinedRequest() throws Exception {
        SocketAddress address = start(LIMITS); // maxPipelined 16
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            burst.append(new String(Netstring.encode("postfix slow:" + (i % 3))));
        }
        try (TestClient c = new TestClient(address)) {
            c.send(burst.toString());
            for (int i = 0; i < 200; i++) {
                assertEquals("OK echo=slow:" + (i % 3), c.readReply());
            }
        }
    }

    /**
     * max_pipelined caps the work of a connection (issue 17): 3000 pipelined lookups that never
     * end start 16 lookups, not as many as the first reads held.
     */
    @Test
    void pipelinedRequestsBeyondTheLimitAreNotLookedUp() throws Exception {
        SocketAddress address = start(LIMITS); // maxPipelined 16
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            burst.append(new String(Netstring.encode("postfix never")));
        }
        try (TestClient c = new TestClient(address)) {
            c.send(burst.toString());
            Thread.sleep(500);
            assertEquals(16, lookups.get());
        }
    }

    /**
     * A pipelining client that sent everything is not cut off as "stalled" (issue 17): 40
     * requests and half of a 41st, the other half 100 ms later. While its lookups (700 ms
     * each, 16 at a time) hold it back, the other half waits in the socket, ours to read; a
     * request_timeout of 0.5 s must not count that time.
     */
    @Test
    void aPipelinerHeldBackIsNotTakenForAStalledClient() throws Exception {
        SocketAddress address = start(LIMITS); // request timeout 500 ms, maxPipelined 16
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            burst.append(new String(Netstring.encode("postfix slow:700")));
        }
        String last = new String(Netstring.encode("postfix last.example"));
        try (TestClient c = new TestClient(address)) {
            c.send(burst + last.substring(0, 10));
            Thread.sleep(100);
            c.send(last.substring(10));
            for (int i = 0; i < 40; i++) {
                assertEquals("OK echo=slow:700", c.readReply(), "reply " + i);
            }
            assertEquals("OK echo=last.example", c.readReply());
        }
    }

    @Test
    void shutdownAnswersLookupsInFlight() throws Exception {
        SocketAddress address = start(LIMITS);
        try (TestClient c = new TestClient(address)) {
            c.send(Netstring.encode("postfix slow:400"));
            waitFor(() -> lookups.get() == 1);
            CompletableFuture<Void> closing = CompletableFuture.runAsync(
                    () -> server.close(Duration.ofSeconds(5)));
            assertEquals("OK echo=slow:400", c.readReply());
            closing.get(10, TimeUnit.SECONDS);
            assertTrue(c.closedByServer());
            server = null;
        }
        try (TestClient late = new TestClient(address)) {
            throw new AssertionError("still accepting after shutdown");
        } catch (IOException expected) {
            // connection refused
        }
    }

    @Test
    void listensOnAUnixSocketWithTheConfiguredMode(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("tlspolicy.sock");
        Files.writeString(dir.resolve("unrelated"), "x");
        server = new SocketmapServer(this::table, LIMITS, 1);
        server.bind(List.of(new ListenAddress.Unix(socket, Optional.empty(), Optional.empty(),
                PosixFilePermissions.fromString("rw-rw----"))));
        assertEquals("rw-rw----",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        try (TestClient c = new TestClient(UnixDomainSocketAddress.of(socket))) {
            assertEquals("OK echo=example.com", c.lookup("postfix", "example.com"));
        }
        server.close(Duration.ofSeconds(1));
        server = null;
        assertTrue(Files.notExists(socket), "socket file removed on stop");
    }

    @Test
    void givesTheSocketTheConfiguredOwnerAndGroup(@TempDir Path dir) throws Exception {
        // Changing a file's owner needs root, which is how the test suite runs (scripts/test).
        org.junit.jupiter.api.Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")), "needs root to chown");
        Path socket = dir.resolve("owned.sock");
        server = new SocketmapServer(this::table, LIMITS, 1);
        server.bind(List.of(new ListenAddress.Unix(socket, Optional.of("nobody"),
                Optional.of("nogroup"), PosixFilePermissions.fromString("rw-rw----"))));
        assertEquals("nobody", Files.getOwner(socket).getName());
        assertEquals("nogroup", Files.readAttributes(socket,
                java.nio.file.attribute.PosixFileAttributes.class).group().getName());
    }

    @Test
    void failsToStartWhenTheOwnerDoesNotExist(@TempDir Path dir) {
        Path socket = dir.resolve("x.sock");
        SocketmapServer s = new SocketmapServer(this::table, LIMITS, 1);
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> s.bind(List.of(new ListenAddress.Unix(socket,
                        Optional.of("no-such-user-tlspolicy"), Optional.empty(),
                        PosixFilePermissions.fromString("rw-------")))));
        assertTrue(e.getMessage().contains("no-such-user-tlspolicy"), e.getMessage());
    }

    @Test
    void replacesAStaleSocketButNeverALiveOneOrAnOrdinaryFile(@TempDir Path dir)
            throws Exception {
        Path socket = dir.resolve("s");
        ListenAddress.Unix unix = new ListenAddress.Unix(socket, Optional.empty(),
                Optional.empty(), PosixFilePermissions.fromString("rw-------"));
        // A crashed run leaves its socket file behind: the JDK's channel does not unlink it.
        try (java.nio.channels.ServerSocketChannel crashed = java.nio.channels.ServerSocketChannel
                .open(java.net.StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket));
        server = new SocketmapServer(this::table, LIMITS, 1);
        server.bind(List.of(unix));
        try (TestClient c = new TestClient(UnixDomainSocketAddress.of(socket))) {
            assertEquals("OK echo=a.example", c.lookup("postfix", "a.example"));
        }

        SocketmapServer second = new SocketmapServer(this::table, LIMITS, 1);
        IOException live = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> second.bind(List.of(unix)));
        assertTrue(live.getMessage().contains("another process"), live.getMessage());
        try (TestClient c = new TestClient(UnixDomainSocketAddress.of(socket))) {
            assertEquals("OK echo=b.example", c.lookup("postfix", "b.example"));
        }

        Path file = dir.resolve("plain");
        Files.writeString(file, "data");
        SocketmapServer third = new SocketmapServer(this::table, LIMITS, 1);
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> third.bind(List.of(new ListenAddress.Unix(file, Optional.empty(),
                        Optional.empty(), PosixFilePermissions.fromString("rw-------")))));
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertEquals("data", Files.readString(file));
    }

    private static void waitFor(java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(10);
        }
    }

    @Test
    void readReplyReturnsNullOnClose() throws Exception {
        SocketAddress address = start(LIMITS);
        try (TestClient c = new TestClient(address)) {
            c.send("x");
            assertTrue(c.readReply().startsWith("PERM"));
            assertNull(c.readReply());
        }
    }
}
