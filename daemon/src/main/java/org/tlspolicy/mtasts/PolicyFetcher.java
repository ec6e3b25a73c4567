package org.tlspolicy.mtasts;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fetches MTA-STS policies over HTTPS (RFC 8461 §3.3) with the JDK HTTP client, and never lets a
 * policy host stall or flood the daemon: every fetch ends, with a body or a typed failure,
 * within its time limit, and no more than {@link #MAX_BODY_BYTES} are ever buffered.
 *
 * <ul>
 *   <li>HTTPS only, to {@code mta-sts.DOMAIN}, with SNI and PKIX validation of that name
 *       ({@link PolicyHostTrust});</li>
 *   <li>no redirects: a 3xx is a failure (RFC 8461 §3.3);</li>
 *   <li>only 200 with media type {@code text/plain} is read (RFC 8461 §3.2);</li>
 *   <li>the body is cut off past {@link #MAX_BODY_BYTES} while it arrives, and the whole fetch,
 *       body included, is bounded by the total timeout, so a host dripping one byte a second
 *       costs one idle connection until then and nothing else.</li>
 * </ul>
 */
public final class PolicyFetcher {

    /** RFC 8461 §3.3 leaves the limit to the sender; 64 KiB is common practice. */
    public static final int MAX_BODY_BYTES = 64 * 1024;

    /** The well-known path (RFC 8461 §3.3). */
    public static final String PATH = "/.well-known/mta-sts.txt";

    static {
        // The JDK keeps idle HTTP/1.1 connections for 1200 s by default; policy hosts are
        // fetched about once a day each, so a kept connection is almost never reused and
        // thousands of them would pile up. Documented in java.net.http's module summary.
        if (System.getProperty("jdk.httpclient.keepalive.timeout") == null) {
            System.setProperty("jdk.httpclient.keepalive.timeout", "5");
        }
    }

    private final HttpClient client;
    private final Duration timeout;
    private final int port;
    private final ScheduledExecutorService timer;

    /**
     * @param tls            trust for policy hosts
     * @param connectTimeout TCP connect limit
     * @param timeout        limit for the whole fetch, body included
     * @param port           443 in production; tests run policy hosts on other ports
     * @param executor       runs the HTTP client's callbacks
     * @param timer          enforces the total timeout
     */
    public PolicyFetcher(SSLContext tls, Duration connectTimeout, Duration timeout, int port,
                         Executor executor, ScheduledExecutorService timer) {
        this.client = HttpClient.newBuilder()
                .sslContext(tls)
                .followRedirects(HttpClient.Redirect.NEVER) // RFC 8461 §3.3: no redirects
                .connectTimeout(connectTimeout)
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(HttpClient.Builder.NO_PROXY)
                .executor(executor)
                .build();
        this.timeout = timeout;
        this.port = port;
        this.timer = timer;
    }

    /** The policy URL of {@code domain} (an A-label name without trailing dot). */
    public URI uri(String domain) {
        // RFC 8461 §3.3: https://mta-sts.DOMAIN/.well-known/mta-sts.txt
        String authority = "mta-sts." + domain + (port == 443 ? "" : ":" + port);
        return URI.create("https://" + authority + PATH);
    }

    /** Fetches the policy of {@code domain}; the future never completes exceptionally. */
    public CompletableFuture<PolicyFetch> fetch(String domain) {
        long start = System.nanoTime();
        HttpRequest request = HttpRequest.newBuilder(uri(domain))
                .timeout(timeout)
                .header("Accept", "text/plain")
                .GET()
                .build();
        CompletableFuture<PolicyFetch> result = new CompletableFuture<>();
        CappedBody body = new CappedBody(start);
        CompletableFuture<HttpResponse<PolicyFetch>> exchange;
        try {
            exchange = client.sendAsync(request, body);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(StsFailure.FETCH_ERROR,
                    "cannot send: " + e.getMessage(), start));
        }
        exchange.whenComplete((response, error) -> result.complete(
                error == null ? response.body() : classify(error, start)));
        ScheduledFuture<?> deadline = timer.schedule(() -> {
            if (result.complete(failed(StsFailure.FETCH_ERROR,
                    "no complete response within " + timeout.toMillis() + " ms", start))) {
                body.cancel();
                exchange.cancel(true);
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> deadline.cancel(false));
        return result;
    }

    static PolicyFetch.Failed failed(StsFailure failure, String reason, long start) {
        return new PolicyFetch.Failed(failure, reason, Duration.ofNanos(System.nanoTime() - start));
    }

    /** Sorts a transport failure into what RFC 8460 reports it as. */
    static PolicyFetch.Failed classify(Throwable error, long start) {
        Throwable t = error instanceof CompletionException && error.getCause() != null
                ? error.getCause() : error;
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CertificateException || c instanceof CertPathValidatorException) {
                return failed(StsFailure.WEBPKI_INVALID, "certificate: " + message(c), start);
            }
        }
        String reason;
        if (t instanceof HttpConnectTimeoutException) {
            reason = "connect timed out";
        } else if (t instanceof HttpTimeoutException) {
            reason = "no response within the timeout";
        } else if (t instanceof ConnectException) {
            reason = "connect failed: " + message(t);
        } else if (t instanceof SSLHandshakeException) {
            reason = "TLS handshake failed: " + message(t);
        } else if (t instanceof IOException) {
            reason = "connection failed: " + message(t);
        } else {
            reason = "unexpected: " + t;
        }
        return failed(StsFailure.FETCH_ERROR, reason, start);
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        while (t.getCause() != null && (m == null || m.isBlank())) {
            t = t.getCause();
            m = t.getMessage();
        }
        return m == null ? t.getClass().getSimpleName() : m;
    }

    /**
     * Reads a 200 text/plain body up to the size limit; anything else ends the exchange before
     * its body is read.
     */
    private static final class CappedBody implements HttpResponse.BodyHandler<PolicyFetch> {

        private final long start;
        private volatile Subscriber subscriber;

        CappedBody(long start) {
            this.start = start;
        }

        void cancel() {
            Subscriber s = subscriber;
            if (s != null) {
                s.cancel();
            }
        }

        @Override
        public HttpResponse.BodySubscriber<PolicyFetch> apply(HttpResponse.ResponseInfo info) {
            String rejection = rejection(info);
            Subscriber s = new Subscriber(start, rejection);
            subscriber = s;
            return s;
        }

        private static String rejection(HttpResponse.ResponseInfo info) {
            int status = info.statusCode();
            if (status >= 300 && status < 400) {
                // RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
                return "HTTP " + status + " redirect to "
                        + info.headers().firstValue("location").orElse("(no location)")
                        + " not followed";
            }
            if (status != 200) {
                return "HTTP " + status;
            }
            // RFC 8461 §3.2: the policy's media type is "text/plain".
            String type = info.headers().firstValue("content-type").orElse("");
            String mediaType = type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            if (!mediaType.equals("text/plain")) {
                return "content type '" + type + "' is not text/plain";
            }
            long length = info.headers().firstValueAsLong("content-length").orElse(-1);
            if (length > MAX_BODY_BYTES) {
                return "body of " + length + " bytes is over " + MAX_BODY_BYTES;
            }
            return null;
        }
    }

    private static final class Subscriber implements HttpResponse.BodySubscriber<PolicyFetch> {

        private final long start;
        private final String rejection;
        private final CompletableFuture<PolicyFetch> body = new CompletableFuture<>();
        private final ByteArrayOutputStream received = new ByteArrayOutputStream(1024);
        private volatile Flow.Subscription subscription;

        Subscriber(long start, String rejection) {
            this.start = start;
            this.rejection = rejection;
        }

        void cancel() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (rejection != null) {
                s.cancel(); // the body is never read
                body.complete(failed(StsFailure.FETCH_ERROR, rejection, start));
                return;
            }
            s.request(Long.MAX_VALUE); // bounded by the cap below, not by demand
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (body.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                int n = item.remaining();
                if (n > MAX_BODY_BYTES - received.size()) {
                    subscription.cancel();
                    body.complete(failed(StsFailure.FETCH_ERROR,
                            "body over " + MAX_BODY_BYTES + " bytes", start));
                    return;
                }
                byte[] chunk = new byte[n];
                item.get(chunk);
                received.write(chunk, 0, n);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            body.complete(classify(throwable, start));
        }

        @Override
        public void onComplete() {
            body.complete(new PolicyFetch.Fetched(
                    received.toString(StandardCharsets.UTF_8),
                    Duration.ofNanos(System.nanoTime() - start)));
        }

        @Override
        public CompletionStage<PolicyFetch> getBody() {
            return body;
        }
    }
}
