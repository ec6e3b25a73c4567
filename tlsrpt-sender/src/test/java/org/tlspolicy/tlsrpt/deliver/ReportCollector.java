package org.tlspolicy.tlsrpt.deliver;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.tlspolicy.testworld.TestCa;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * An RFC 8460 §5.4 HTTPS report collector on loopback: the JDK's own HTTPS server with a
 * certificate from the test CA for {@link #HOST}, which the test's zone points at 127.0.0.1
 * ({@link #ZONE_RECORD}; the sender then needs --allow-private-destinations). It answers each POST with the status set
 * by the test, or holds it unanswered, and keeps the report-id of every report it received.
 */
final class ReportCollector implements AutoCloseable {

    /** The collector's name in the test zone {@code test.}. */
    static final String HOST = "collector.test";

    /** Its address record, for a zone file of {@code test.}. */
    static final String ZONE_RECORD = "collector.test. A 127.0.0.1\n";

    private static final Pattern REPORT_ID = Pattern.compile("\"report-id\" : \"([^\"]+)\"");

    private final HttpsServer server;
    private final List<String> reportIds = new CopyOnWriteArrayList<>();
    private final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private volatile CountDownLatch hold;
    private final CountDownLatch received = new CountDownLatch(1);

    ReportCollector(TestCa ca) throws Exception {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                16);
        server.setHttpsConfigurator(new HttpsConfigurator(ca.issue(HOST)
                .serverContext()));
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/tlsrpt", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            contentTypes.add(String.valueOf(exchange.getRequestHeaders()
                    .getFirst("Content-Type")));
            String json;
            try (GZIPInputStream z = new GZIPInputStream(new ByteArrayInputStream(body))) {
                json = new String(z.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                json = "";
            }
            reports.add(json);
            Matcher m = REPORT_ID.matcher(json);
            reportIds.add(m.find() ? m.group(1) : "(no report-id)");
            received.countDown();
            CountDownLatch h = hold;
            if (h != null) {
                try {
                    h.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    String uri() {
        return "https://" + HOST + ":" + server.getAddress().getPort() + "/tlsrpt";
    }

    void respond(int code) {
        status = code;
    }

    /** From now on, requests are received but not answered until {@link #release()}. */
    void holdRequests() {
        hold = new CountDownLatch(1);
    }

    /** New requests are answered at once again; those held stay held (until close). */
    void answerNewRequests() {
        hold = null;
    }

    void release() {
        CountDownLatch h = hold;
        hold = null;
        if (h != null) {
            h.countDown();
        }
    }

    boolean awaitFirst(int seconds) throws InterruptedException {
        return received.await(seconds, TimeUnit.SECONDS);
    }

    List<String> reportIds() {
        return List.copyOf(reportIds);
    }

    /** Every report received, as JSON, in order. */
    List<String> reports() {
        return List.copyOf(reports);
    }

    List<String> contentTypes() {
        return List.copyOf(contentTypes);
    }

    @Override
    public void close() {
        release();
        server.stop(0);
    }
}
