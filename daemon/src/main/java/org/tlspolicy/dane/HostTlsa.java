package org.tlspolicy.dane;

import java.util.List;

/**
 * What DNS says about DANE for one MX host (RFC 7672 §2.2.3).
 *
 * @param host    the MX host name
 * @param status  what it comes to
 * @param base    the name the TLSA records were found at ({@code _25._tcp.HOST} of the
 *                expanded or the original name), empty when there are none
 * @param records the TLSA records found there (all of them, usable or not)
 * @param detail  the answers' security, for logs and {@code query}
 */
public record HostTlsa(String host, Status status, String base, List<Tlsa> records,
                       String detail) {

    public HostTlsa {
        records = List.copyOf(records);
    }

    /** The consequence for the host. */
    public enum Status {
        /** Secure TLSA records, at least one usable: the host can be authenticated by DANE. */
        USABLE,
        /**
         * Secure TLSA records, none usable (RFC 7672 §2.2: TLS is still mandatory, without
         * authentication; Postfix's {@code dane} level does that itself).
         */
        UNUSABLE,
        /** No secure TLSA records (or insecure addresses): DANE does not apply to the host. */
        NONE,
        /** A bogus answer on the way: possibly an attack, the mail must wait. */
        BOGUS,
        /** No usable answer on the way (SERVFAIL, timeout): the mail must wait. */
        INDETERMINATE;

        /** Whether the host's DANE status cannot be known now. */
        public boolean failed() {
            return this == BOGUS || this == INDETERMINATE;
        }
    }
}
