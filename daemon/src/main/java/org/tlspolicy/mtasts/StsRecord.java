package org.tlspolicy.mtasts;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The MTA-STS TXT record at {@code _mta-sts.DOMAIN} (RFC 8461 §3.1): {@code v=STSv1; id=ID;}.
 * Its {@code id} names the policy instance; a changed id means the policy must be fetched again.
 *
 * @param id 1 to 32 letters and digits
 */
public record StsRecord(String id) {

    /** RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT). */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9]{1,32}");

    /** RFC 8461 §3.1: sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
    private static final Pattern EXT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}");

    /** RFC 8461 §3.1: sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E). */
    private static final Pattern EXT_VALUE = Pattern.compile("[\\x21-\\x3a\\x3c\\x3e-\\x7e]+");

    public StsRecord {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("bad id: " + id);
        }
    }

    /** What the TXT records of {@code _mta-sts.DOMAIN} say about MTA-STS. */
    public sealed interface Discovery {

        /** Exactly one valid STSv1 record. */
        record Published(StsRecord record) implements Discovery {
        }

        /** No STSv1 record: the domain does not use MTA-STS. */
        record NotPublished() implements Discovery {
        }

        /**
         * STSv1 records that cannot be used (several, or malformed). RFC 8461 §3.1: the sender
         * then assumes no policy, exactly as for {@link NotPublished}; kept apart so that logs
         * and reports can say why.
         */
        record Invalid(String reason) implements Discovery {
        }
    }

    /**
     * Selects and parses the STSv1 record among the TXT records of {@code _mta-sts.DOMAIN}.
     * Each element is one TXT record with its character-strings already joined (RFC 8461 §3.1:
     * a record may be split into several strings).
     */
    public static Discovery discover(List<String> txtRecords) {
        // RFC 8461 §3.1: records that do not begin with "v=STSv1;" are discarded.
        List<String> sts = txtRecords.stream().filter(r -> r.startsWith("v=STSv1;")).toList();
        if (sts.isEmpty()) {
            return new Discovery.NotPublished();
        }
        // RFC 8461 §3.1: if the number of resulting records is not one, assume no policy.
        if (sts.size() > 1) {
            return new Discovery.Invalid(sts.size() + " STSv1 records");
        }
        return parse(sts.get(0));
    }

    /** Parses one record that begins with {@code v=STSv1;}. */
    static Discovery parse(String text) {
        // RFC 8461 §3.1 ABNF: sts-version 1*(sts-field-delim sts-field) [sts-field-delim],
        // sts-field-delim = *WSP ";" *WSP (erratum 6285 notes the leading *WSP conflicts with
        // the "v=STSv1;" prefix rule; we accept both).
        String[] fields = text.substring("v=STSv1;".length()).split(";", -1);
        String id = null;
        int present = 0;
        for (int i = 0; i < fields.length; i++) {
            String field = stripWsp(fields[i]);
            if (field.isEmpty()) {
                if (i == fields.length - 1) {
                    continue; // the optional trailing delimiter
                }
                return new Discovery.Invalid("empty field");
            }
            present++;
            int eq = field.indexOf('=');
            if (eq <= 0) {
                return new Discovery.Invalid("field without '=': " + field);
            }
            String name = field.substring(0, eq);
            String value = field.substring(eq + 1);
            if (name.equals("id")) {
                if (id != null) {
                    return new Discovery.Invalid("more than one id");
                }
                if (!ID.matcher(value).matches()) {
                    return new Discovery.Invalid("id must be 1 to 32 letters and digits: " + value);
                }
                id = value;
            } else if (!EXT_NAME.matcher(name).matches() || !EXT_VALUE.matcher(value).matches()) {
                return new Discovery.Invalid("malformed extension field: " + field);
            }
        }
        if (present == 0) {
            return new Discovery.Invalid("no fields after v=STSv1");
        }
        if (id == null) {
            // RFC 8461 §3.1: id is REQUIRED.
            return new Discovery.Invalid("no id");
        }
        return new Discovery.Published(new StsRecord(id));
    }

    /** Strips RFC 5234 WSP (space and horizontal tab) from both ends. */
    static String stripWsp(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
            to--;
        }
        return s.substring(from, to);
    }
}
