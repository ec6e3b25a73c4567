package org.tlspolicy.mtasts;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An MTA-STS policy (RFC 8461 §3.2), as served at
 * {@code https://mta-sts.DOMAIN/.well-known/mta-sts.txt}.
 *
 * @param mode          what the sender does when no MX qualifies
 * @param mx            the allowed MX patterns; empty only with mode {@link Mode#NONE}
 * @param maxAgeSeconds how long the policy may be cached, at most {@link #MAX_AGE_LIMIT}
 */
public record StsPolicy(Mode mode, List<MxPattern> mx, long maxAgeSeconds) {

    /** RFC 8461 §3.2: "maximum value of 31557600" (one year). */
    public static final long MAX_AGE_LIMIT = 31_557_600L;

    /** RFC 8461 §3.2: sts-policy-ext-name. */
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}");

    /** RFC 8461 §3.2: sts-policy-max-age-value = 1*10(DIGIT). */
    private static final Pattern MAX_AGE = Pattern.compile("[0-9]{1,10}");

    /** RFC 8461 §5: the three policy modes. */
    public enum Mode {
        /** Deliver only to an MX that matches a pattern and presents a valid certificate. */
        ENFORCE,
        /** Deliver anyway, report failures (TLS-RPT). */
        TESTING,
        /** Forget any previous policy: no MTA-STS. */
        NONE
    }

    public StsPolicy {
        mx = List.copyOf(mx);
        if (mode != Mode.NONE && mx.isEmpty()) {
            throw new IllegalArgumentException("mode " + mode + " needs mx patterns");
        }
        if (maxAgeSeconds < 0 || maxAgeSeconds > MAX_AGE_LIMIT) {
            throw new IllegalArgumentException("max_age out of range: " + maxAgeSeconds);
        }
    }

    /** What a policy body came to: a policy, or why it is not one. */
    public sealed interface Parse {

        record Valid(StsPolicy policy) implements Parse {
        }

        /**
         * Not a usable policy. RFC 8461 §3.3/§5: treated as a failed fetch (a cached policy, if
         * any, stays in force), reported as {@code sts-policy-invalid}.
         */
        record Invalid(String reason) implements Parse {
        }
    }

    /**
     * Parses a policy body. Lines are separated by LF or CRLF (RFC 8461 §3.2 ABNF,
     * sts-policy-term; erratum 6253); each is {@code key: value} with optional whitespace after
     * the colon and at the end. Unknown keys are ignored (sts-policy-extension); a missing,
     * repeated or malformed {@code version}, {@code mode} or {@code max_age}, or a malformed
     * {@code mx}, makes the whole policy invalid. Empty lines are tolerated.
     */
    public static Parse parse(String body) {
        String version = null;
        Mode mode = null;
        Long maxAge = null;
        List<MxPattern> mx = new ArrayList<>();
        for (String rawLine : body.split("\n", -1)) {
            String line = rawLine.endsWith("\r") ? rawLine.substring(0, rawLine.length() - 1)
                    : rawLine;
            if (StsRecord.stripWsp(line).isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                return invalid("line without 'key:': " + line);
            }
            String key = line.substring(0, colon);
            String value = StsRecord.stripWsp(line.substring(colon + 1));
            if (!KEY.matcher(key).matches()) {
                return invalid("malformed key: " + key);
            }
            if (value.isEmpty() || !value.chars().allMatch(c -> c >= 0x20 && c < 0x7f || c == '\t')) {
                return invalid("empty or non-printable value for " + key);
            }
            switch (key) {
                case "version" -> {
                    if (version != null) {
                        return invalid("version given twice");
                    }
                    version = value;
                }
                case "mode" -> {
                    if (mode != null) {
                        return invalid("mode given twice");
                    }
                    Optional<Mode> m = mode(value);
                    if (m.isEmpty()) {
                        return invalid("mode must be enforce, testing or none: " + value);
                    }
                    mode = m.get();
                }
                case "max_age" -> {
                    if (maxAge != null) {
                        return invalid("max_age given twice");
                    }
                    if (!MAX_AGE.matcher(value).matches()) {
                        return invalid("max_age must be 1 to 10 digits: " + value);
                    }
                    long seconds = Long.parseLong(value);
                    if (seconds > MAX_AGE_LIMIT) {
                        return invalid("max_age over " + MAX_AGE_LIMIT + ": " + value);
                    }
                    maxAge = seconds;
                }
                case "mx" -> {
                    Optional<MxPattern> pattern = MxPattern.parse(value);
                    if (pattern.isEmpty()) {
                        return invalid("malformed mx pattern: " + value);
                    }
                    mx.add(pattern.get());
                }
                default -> {
                    // RFC 8461 §3.2: extension fields, ignored.
                }
            }
        }
        if (!"STSv1".equals(version)) {
            return invalid(version == null ? "no version" : "version must be STSv1: " + version);
        }
        if (mode == null) {
            return invalid("no mode");
        }
        if (maxAge == null) {
            return invalid("no max_age");
        }
        if (mode != Mode.NONE && mx.isEmpty()) {
            return invalid("no mx pattern");
        }
        return new Parse.Valid(new StsPolicy(mode, mx, maxAge));
    }

    private static Optional<Mode> mode(String value) {
        // RFC 8461 §3.2: the values are case-sensitive (%s in the ABNF).
        return switch (value) {
            case "enforce" -> Optional.of(Mode.ENFORCE);
            case "testing" -> Optional.of(Mode.TESTING);
            case "none" -> Optional.of(Mode.NONE);
            default -> Optional.empty();
        };
    }

    private static Parse invalid(String reason) {
        return new Parse.Invalid(reason);
    }

    /** RFC 8461 §4.1: does some pattern match the MX host? */
    public boolean allows(String mxHost) {
        return mx.stream().anyMatch(p -> p.matches(mxHost));
    }
}
