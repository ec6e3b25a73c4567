package org.tlspolicy.audit;

import java.security.cert.X509Certificate;
import java.util.List;

/** What trying TLS with a server came to, as far as it got. */
public sealed interface Handshake {

    /** No conversation: no connection, or (SMTP) no greeting. */
    record Unreachable(String reason) implements Handshake {
    }

    /** SMTP: EHLO answered, STARTTLS not among its keywords (what a downgrade leaves too). */
    record NotOffered(String ehlo) implements Handshake {
    }

    /** STARTTLS refused, or the TLS handshake failed. */
    record Failed(String reason) implements Handshake {
    }

    /** TLS negotiated: the protocol, cipher, and the chain exactly as the server sent it. */
    record Secured(String protocol, String cipher, List<X509Certificate> chain)
            implements Handshake {
        public Secured {
            chain = List.copyOf(chain);
        }
    }
}
