package org.tlspolicy.tlsrpt.deliver;

import org.tlspolicy.smtp.Mailbox;

/** How report mail is handed to the local MTA, which then delivers it (and retries itself). */
public interface MailSubmission {

    /** Hands {@code message} (CRLF lines) over for {@code to}, envelope sender {@code from}. */
    DeliveryOutcome submit(Mailbox from, Mailbox to, byte[] message);
}
