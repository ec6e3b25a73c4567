package org.tlspolicy.policy;

import org.tlspolicy.socketmap.Netstring;

import java.util.List;

/**
 * A Postfix TLS policy table value (postconf(5) {@code smtp_tls_policy_maps}):
 * {@code LEVEL [name=value ...]}.
 *
 * @param level      the security level
 * @param match      certificate name patterns for {@code secure}; joined with ':' in the reply
 * @param attributes further {@code name=value} attributes, rendered verbatim in order
 */
public record TlsPolicy(Level level, List<String> match, List<String> attributes) {

    /**
     * The longest rendered policy a decision should produce: Postfix reads replies of up to
     * 100000 bytes, and the netstring framing needs room.
     */
    public static final int MAX_RENDERED = Netstring.MAX_REPLY_PAYLOAD - 1000;

    /** The security levels a policy from this daemon can name. */
    public enum Level {
        /** Opportunistic DANE: Postfix looks TLSA up per MX itself. */
        DANE("dane"),
        /** Mandatory DANE: defer when no usable TLSA record is found. */
        DANE_ONLY("dane-only"),
        /** Mandatory TLS with certificate name matching, as MTA-STS enforce needs. */
        SECURE("secure"),
        /** Mandatory TLS without authentication. */
        ENCRYPT("encrypt"),
        /** Opportunistic TLS. */
        MAY("may");

        private final String word;

        Level(String word) {
            this.word = word;
        }

        /** The level as Postfix spells it. */
        public String word() {
            return word;
        }
    }

    public TlsPolicy {
        match = List.copyOf(match);
        attributes = List.copyOf(attributes);
        // Postfix defers with "attribute match has empty value" on an empty list.
        if (level == Level.SECURE && match.isEmpty()) {
            throw new IllegalArgumentException("a secure policy needs at least one match pattern");
        }
        for (String m : match) {
            if (m.isEmpty() || m.indexOf(':') >= 0 || m.indexOf(' ') >= 0) {
                throw new IllegalArgumentException("bad match pattern: '" + m + "'");
            }
        }
    }

    /** The value as Postfix reads it, e.g. {@code secure match=mx.example.net servername=hostname}. */
    public String render() {
        StringBuilder b = new StringBuilder(level.word());
        if (!match.isEmpty()) {
            b.append(" match=").append(String.join(":", match));
        }
        for (String attribute : attributes) {
            b.append(' ').append(attribute);
        }
        return b.toString();
    }

    /**
     * An operator's policy text from {@code overrides:}: {@code none} (empty: no policy) or
     * {@code LEVEL [match=P:P…] [name=value…]}, LEVEL one of {@link Level}'s words; only what
     * Postfix's policy syntax allows (no {@code :} or spaces inside a pattern).
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static java.util.Optional<TlsPolicy> parseOverride(String text) {
        String t = text.strip();
        if (t.equals("none")) {
            return java.util.Optional.empty();
        }
        String[] words = t.split("\\s+");
        Level level = null;
        for (Level l : Level.values()) {
            if (l.word().equals(words[0])) {
                level = l;
            }
        }
        if (level == null) {
            throw new IllegalArgumentException("must be none or a Postfix TLS policy starting "
                    + "with dane-only, dane, secure, encrypt or may");
        }
        List<String> match = List.of();
        List<String> attributes = new java.util.ArrayList<>();
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq <= 0 || eq == words[i].length() - 1) {
                throw new IllegalArgumentException("'" + words[i] + "' is not name=value");
            }
            if (words[i].startsWith("match=")) {
                match = List.of(words[i].substring(6).split(":"));
            } else {
                attributes.add(words[i]);
            }
        }
        return java.util.Optional.of(new TlsPolicy(level, match, attributes));
    }
}
