package org.tlspolicy.audit;

import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * The days-to-expiry line of a certificate (an MX host's, the policy host's): ok, a warning
 * under the thresholds' first two, a failure under the last and once expired.
 */
record Expiry(ServedChain.Thresholds thresholds) {

    /**
     * The days-to-expiry line: ok (when {@code always}), warn under the thresholds, {@code
     * failing} under the last and once expired; empty when there is nothing to say.
     */
    Optional<Finding> line(String check, String subject, String host,
                                     X509Certificate leaf, long days, Level failing,
                                     String result, String note, boolean always) {
        ServedChain.Thresholds t = thresholds;
        String until = leaf.getNotAfter().toInstant().toString().substring(0, 10);
        if (days < 0) {
            return Optional.of(new Finding(check, subject, failing, "expired on " + until + " ("
                    + days(-days) + " ago)" + note, "renew the certificate now", result, host));
        }
        if (days < t.fail()) {
            return Optional.of(new Finding(check, subject, failing, "expires in "
                    + days(days) + " (" + until + ")" + note, "renew the certificate now", "", host));
        }
        if (days < t.warn()) {
            boolean urgent = days < t.urgent();
            return Optional.of(new Finding(check, subject, failing == Level.OK ? Level.OK
                    : Level.WARN, "expires in " + days(days) + " (" + until + ")"
                    + (urgent ? ", soon" : ""), "renew the certificate" + (urgent
                    ? " this week" : ""), "", host));
        }
        return always ? Optional.of(new Finding(check, subject, Level.OK, "expires in "
                + days(days) + " (" + until + ")", "", "", host)) : Optional.empty();
    }

    static String days(long n) {
        return n + (n == 1 ? " day" : " days");
    }
}
