package org.tlspolicy.tlsrpt.deliver;

/** What one attempt to hand a report over came to. */
public sealed interface DeliveryOutcome {

    /** Accepted: an HTTP 2xx, or the MTA's 250 after the message data. */
    record Delivered(String detail) implements DeliveryOutcome {
    }

    /** Worth another try later: network trouble, HTTP 5xx, SMTP 4xx. */
    record Temporary(String reason) implements DeliveryOutcome {
    }

    /** Never worth another try: HTTP 4xx, SMTP 5xx, an unusable destination. */
    record Permanent(String reason) implements DeliveryOutcome {
    }
}
