package org.tlspolicy.config;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ${NAME}} and {@code ${NAME:-default}} in a config file, replaced by the environment's
 * value before the YAML is read, as docker compose does: a container image keeps one file and
 * takes what differs per deployment (the socketmap address, the resolvers) from its
 * environment. Only upper-case names are references, so no other {@code $} in a file changes
 * meaning; a reference to an unset variable without a default stops the load with its line.
 */
final class EnvironmentReferences {

    private static final Pattern REFERENCE =
            Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)(?::-([^}\\r\\n]*))?}");

    private EnvironmentReferences() {
    }

    static String resolve(String text, Map<String, String> env) throws ConfigException {
        Matcher m = REFERENCE.matcher(text);
        if (!m.find()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int last = 0;
        do {
            String name = m.group(1);
            String value = env.get(name);
            if (value == null || (value.isEmpty() && m.group(2) != null)) {
                if (m.group(2) == null) {
                    throw new ConfigException("line " + line(text, m.start()) + ": ${" + name
                            + "} is not set in the environment (give a default: ${" + name
                            + ":-VALUE})");
                }
                value = m.group(2);
            }
            // A value is one scalar's text: a line break or another control character would
            // let the environment write keys the file does not have.
            for (int i = 0; i < value.length(); i++) {
                if (Character.isISOControl(value.charAt(i))) {
                    throw new ConfigException("line " + line(text, m.start()) + ": ${" + name
                            + "} holds a control character");
                }
            }
            out.append(text, last, m.start()).append(value);
            last = m.end();
        } while (m.find());
        return out.append(text, last, text.length()).toString();
    }

    private static int line(String text, int offset) {
        int n = 1;
        for (int i = 0; i < offset; i++) {
            if (text.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }
}
