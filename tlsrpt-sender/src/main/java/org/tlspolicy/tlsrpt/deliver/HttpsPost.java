package org.tlspolicy.tlsrpt.deliver;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Reports to {@code https:} destinations (RFC 8460 §5.4): a POST of the gzip-compressed report
 * as {@code application/tlsrpt+gzip}, with the JDK's PKIX and host name checks, no redirects
 * followed, and time limits. 2xx is delivered; 4xx permanent (the collector refuses this
 * report: sending it again changes nothing); 5xx and network trouble temporary.
 */
public final class HttpsPost {

    private final HttpClient client;
    private final Duration timeout;

    public HttpsPost(SSLContext tls, Duration connectTimeout, Duration timeout) {
        this.client = HttpClient.newBuilder()
                .sslContext(tls)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
        this.timeout = timeout;
    }

    public DeliveryOutcome post(URI uri, byte[] gzippedReport) {
        if (!"https".equalsIgnoreCase(uri.getScheme())) {
            return new DeliveryOutcome.Permanent("not an https URI: " + uri);
        }
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Content-Type", "application/tlsrpt+gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(gzippedReport))
                .build();
        try {
            HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
            int code = r.statusCode();
            if (code >= 200 && code < 300) {
                return new DeliveryOutcome.Delivered("HTTP " + code);
            }
            if (code >= 500) {
                return new DeliveryOutcome.Temporary("HTTP " + code);
            }
            // 3xx (never followed: a redirect could take the report anywhere) and 4xx.
            return new DeliveryOutcome.Permanent("HTTP " + code);
        } catch (IOException e) {
            return new DeliveryOutcome.Temporary(e.getClass().getSimpleName() + ": "
                    + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DeliveryOutcome.Temporary("interrupted");
        }
    }
}
