package org.tlspolicy.audit;

import org.tlspolicy.mtasts.MxPattern;

import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Judges a certificate chain exactly as a server sent it, as a validating sender would: PKIX
 * from the trust anchors with only the certificates sent (senders do not fetch a missing
 * intermediate: RFC 8461 §4.2 and RFC 7672 §3.2 leave it to the server to send them), the
 * name, and the dates. Unlike a sender it does not stop at the first problem, and it says
 * which problem senders report (RFC 8460 §4.3.2.2).
 */
public final class ServedChain {

    /** The days-to-expiry thresholds: warn under {@code warn} and {@code urgent}, fail under {@code fail}. */
    public record Thresholds(int warn, int urgent, int fail) {
        public static final Thresholds DEFAULT = new Thresholds(30, 14, 7);

        public Thresholds {
            if (fail < 0 || urgent < fail || warn < urgent) {
                throw new IllegalArgumentException("expiry thresholds must be WARN >= URGENT >= "
                        + "FAIL >= 0 days, not " + warn + "," + urgent + "," + fail);
            }
        }
    }

    /**
     * One thing wrong with a chain for a validating sender.
     *
     * @param result the RFC 8460 §4.3.2.2 result type senders report for it
     * @param why    what is wrong
     * @param advice what to change
     */
    public record Problem(String result, String why, String advice) {
    }

    private final X509TrustManager trust;

    public ServedChain(X509TrustManager trust) {
        this.trust = trust;
    }

    /**
     * What keeps a validating sender from accepting {@code chain} (leaf first, as sent) for
     * {@code name} at {@code now}, the leaf's own dates aside ({@link #daysLeft}): nothing when
     * it would.
     */
    public List<Problem> judge(List<X509Certificate> chain, String name, Instant now) {
        List<Problem> problems = new ArrayList<>();
        X509Certificate leaf = chain.get(0);
        // The leaf's dates are the expiry check's (with its thresholds); a CA certificate's
        // are a problem of the chain.
        for (X509Certificate c : chain.subList(1, chain.size())) {
            String which = "the CA certificate " + c.getSubjectX500Principal().getName();
            if (c.getNotAfter().toInstant().isBefore(now)) {
                problems.add(new Problem("certificate-expired", which + " expired on "
                        + c.getNotAfter().toInstant(), "install the CA's current intermediate"));
            } else if (c.getNotBefore().toInstant().isAfter(now)) {
                problems.add(new Problem("certificate-expired", which + " is not valid before "
                        + c.getNotBefore().toInstant(), "install the CA's current intermediate"));
            }
        }
        trustProblem(chain).ifPresent(problems::add);
        if (!validFor(leaf, name)) {
            // RFC 8460 §4.3.2.2: the names of the certificate do not match.
            problems.add(new Problem("certificate-host-mismatch", "the certificate is for "
                    + String.join(", ", names(leaf)) + ", not " + name,
                    "get a certificate that names " + name));
        }
        return problems;
    }

    /**
     * Whole days from {@code now} to the leaf's end; once it is over, minus the whole days
     * since, and at least -1 (an hour past the end is already "expired").
     */
    public static long daysLeft(X509Certificate leaf, Instant now) {
        long seconds = Duration.between(now, leaf.getNotAfter().toInstant()).toSeconds();
        return seconds >= 0 ? seconds / 86_400L : -Math.max(1, -seconds / 86_400L);
    }

    /** PKIX over the chain as sent, its failure named as a sender would see it. */
    private Optional<Problem> trustProblem(List<X509Certificate> chain) {
        try {
            // "UNKNOWN": TLS 1.3's auth type, which checks the key usage for signatures.
            trust.checkServerTrusted(chain.toArray(X509Certificate[]::new), "UNKNOWN");
            return Optional.empty();
        } catch (CertificateException e) {
            if (chainExpired(e)) {
                return Optional.empty(); // said above, with the date
            }
            X509Certificate last = chain.get(chain.size() - 1);
            X500Principal issuer = last.getIssuerX500Principal();
            boolean selfIssued = issuer.equals(last.getSubjectX500Principal());
            if (chain.size() == 1 && selfIssued) {
                return Optional.of(new Problem("certificate-not-trusted",
                        "the certificate is self-signed", "get one from a public CA (DANE-EE "
                        + "senders accept it, MTA-STS and DANE-TA senders do not)"));
            }
            if (selfIssued) {
                return Optional.of(new Problem("certificate-not-trusted", "the chain "
                        + "ends in " + issuer.getName() + ", which is no trusted root",
                        "get a certificate from a public CA"));
            }
            if (!anchorSubjects().contains(issuer)) {
                // The usual case in reports: a browser fetches the missing intermediate (AIA),
                // a sending MTA does not.
                return Optional.of(new Problem("certificate-not-trusted", "the server "
                        + "sends " + chain.size() + " certificate" + (chain.size() == 1 ? ""
                        : "s") + " and not the issuer " + issuer.getName() + " of the last: "
                        + "an intermediate is missing, or the CA is not trusted",
                        "configure the full chain (leaf then intermediates), e.g. Postfix "
                                + "smtpd_tls_chain_files with the CA's fullchain file"));
            }
            return Optional.of(new Problem("certificate-not-trusted",
                    "PKIX validation failed: " + reason(e), "check the chain with openssl "
                    + "s_client -showcerts"));
        }
    }

    private Set<X500Principal> anchorSubjects() {
        Set<X500Principal> s = new HashSet<>();
        for (X509Certificate a : trust.getAcceptedIssuers()) {
            s.add(a.getSubjectX500Principal());
        }
        return s;
    }

    private static boolean chainExpired(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateExpiredException
                    || t instanceof java.security.cert.CertificateNotYetValidException) {
                return true;
            }
        }
        return false;
    }

    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /**
     * RFC 6125 §6.4 as RFC 8461 §4.1 and RFC 7672 §3.2.3 apply it: a DNS-ID of the subject
     * alternative names equal to {@code name}, or a wildcard standing for its whole leftmost
     * label; the common name only when there is no DNS-ID.
     */
    static boolean validFor(X509Certificate leaf, String name) {
        String host = name.toLowerCase(Locale.ROOT);
        for (String n : names(leaf)) {
            Optional<MxPattern> p = MxPattern.parse(n.toLowerCase(Locale.ROOT));
            if (p.isPresent() && p.get().matches(host)) {
                return true;
            }
        }
        return false;
    }

    /** The DNS-IDs of {@code leaf}, else its common name. */
    static List<String> names(X509Certificate leaf) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(2).equals(san.get(0)) && san.get(1) instanceof String s) {
                        names.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable names: matches nothing
        }
        if (names.isEmpty()) {
            for (String rdn : leaf.getSubjectX500Principal().getName().split(",")) {
                if (rdn.startsWith("CN=")) {
                    names.add(rdn.substring(3));
                }
            }
        }
        return names;
    }
}
