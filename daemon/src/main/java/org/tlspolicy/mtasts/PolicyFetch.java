package org.tlspolicy.mtasts;

import java.time.Duration;

/** What fetching {@code https://mta-sts.DOMAIN/.well-known/mta-sts.txt} came to. */
public sealed interface PolicyFetch {

    /** How long the fetch took, from its start to the end of the body or the failure. */
    Duration elapsed();

    /** Where that time went, as far as the fetch got. */
    Phases phases();

    /**
     * Time spent on the TCP connect (all addresses tried), the TLS handshake, and from sending
     * the request to the end of the response; zero for a phase that was not reached.
     */
    record Phases(Duration connect, Duration tls, Duration response) {
        public static final Phases NONE = new Phases(Duration.ZERO, Duration.ZERO, Duration.ZERO);
    }

    /** A 200 response with a text/plain body within the size limit; not yet parsed. */
    record Fetched(String body, Duration elapsed, Phases phases) implements PolicyFetch {
    }

    /** No body: {@code failure} is {@link StsFailure#FETCH_ERROR} or {@link StsFailure#WEBPKI_INVALID}. */
    record Failed(StsFailure failure, String reason, Duration elapsed, Phases phases)
            implements PolicyFetch {
    }
}
