package org.tlspolicy.mtasts;

import java.time.Duration;

/** What fetching {@code https://mta-sts.DOMAIN/.well-known/mta-sts.txt} came to. */
public sealed interface PolicyFetch {

    /** How long the fetch took, from the request to the end of the body or the failure. */
    Duration elapsed();

    /** A 200 response with a text/plain body within the size limit; not yet parsed. */
    record Fetched(String body, Duration elapsed) implements PolicyFetch {
    }

    /** No body: {@code failure} is {@link StsFailure#FETCH_ERROR} or {@link StsFailure#WEBPKI_INVALID}. */
    record Failed(StsFailure failure, String reason, Duration elapsed) implements PolicyFetch {
    }
}
