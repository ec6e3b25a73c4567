package org.tlspolicy.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed YAML document merged over the embedded defaults, read by dotted key with typed,
 * validating getters. Because the defaults name every key, a key the defaults lack is unknown,
 * and is rejected when the trees are merged.
 */
final class ConfigTree {

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h|d)?");

    private final Map<String, Object> root;

    private ConfigTree(Map<String, Object> root) {
        this.root = root;
    }

    /** The merged keys, as a map (to lay another file over). */
    Map<String, Object> root() {
        return root;
    }

    /** Lays {@code overrides} over {@code defaults}, rejecting keys the defaults do not have. */
    static ConfigTree merge(Map<String, Object> defaults, Map<String, Object> overrides)
            throws ConfigException {
        return new ConfigTree(mergeMaps(defaults, overrides, ""));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mergeMaps(Map<String, Object> defaults,
                                                 Map<String, Object> overrides, String prefix)
            throws ConfigException {
        Map<String, Object> merged = new LinkedHashMap<>(defaults);
        for (Map.Entry<String, Object> e : overrides.entrySet()) {
            String key = prefix + e.getKey();
            if (!defaults.containsKey(e.getKey())) {
                throw new ConfigException("config key " + key + " is unknown; known keys"
                        + (prefix.isEmpty() ? "" : " under " + prefix.substring(0,
                        prefix.length() - 1)) + ": " + String.join(", ", defaults.keySet()));
            }
            Object def = defaults.get(e.getKey());
            Object value = e.getValue();
            if (def instanceof Map<?, ?> defMap) {
                if (value == null) {
                    continue; // an empty section: keep the defaults
                }
                if (!(value instanceof Map<?, ?> valueMap)) {
                    throw ConfigException.badValue(key, value, "must be a section of keys: "
                            + String.join(", ", ((Map<String, Object>) defMap).keySet()));
                }
                merged.put(e.getKey(), mergeMaps((Map<String, Object>) defMap,
                        stringKeys(valueMap, key), key + "."));
            } else {
                merged.put(e.getKey(), value);
            }
        }
        return merged;
    }

    /** Checks that a YAML mapping has string keys, as every section here does. */
    static Map<String, Object> stringKeys(Map<?, ?> map, String where) throws ConfigException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw ConfigException.badValue(where.isEmpty() ? "(top level)" : where,
                        e.getKey(), "is not a key name");
            }
            out.put(k, e.getValue());
        }
        return out;
    }

    private Object get(String key) {
        Object node = root;
        for (String part : key.split("\\.")) {
            node = ((Map<?, ?>) node).get(part);
        }
        return node;
    }

    String string(String key) throws ConfigException {
        Object v = get(key);
        if (v == null) {
            return "";
        }
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Number || v instanceof Boolean) {
            return String.valueOf(v);
        }
        throw ConfigException.badValue(key, v, "must be a string");
    }

    int integer(String key, int min, int max) throws ConfigException {
        Object v = get(key);
        if (v instanceof Integer i && i >= min && i <= max) {
            return i;
        }
        throw ConfigException.badValue(key, v, "must be a whole number from " + min + " to " + max);
    }

    boolean bool(String key) throws ConfigException {
        Object v = get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        throw ConfigException.badValue(key, v, "must be true or false");
    }

    Duration duration(String key, Duration min, Duration max) throws ConfigException {
        Object v = get(key);
        String allowed = "must be a duration from " + min.toMillis() + "ms to " + max.toSeconds()
                + "s with a unit, e.g. 500ms, 10s, 5m";
        Matcher m = DURATION.matcher(v == null ? "" : String.valueOf(v).trim());
        if (!m.matches()) {
            throw ConfigException.badValue(key, v, allowed);
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw ConfigException.badValue(key, v, allowed);
        }
        return d;
    }

    List<String> strings(String key) throws ConfigException {
        Object v = get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw ConfigException.badValue(key, v, "must be a list");
        }
        List<String> out = new ArrayList<>();
        for (Object item : list) {
            if (!(item instanceof String s)) {
                throw ConfigException.badValue(key, item, "must be a list of strings");
            }
            out.add(s);
        }
        return out;
    }

    /**
     * A list of sections, each with only {@code keys} (all optional here). YAML may give a
     * date as a date: it is kept as text.
     */
    List<Map<String, Object>> sections(String key, List<String> keys) throws ConfigException {
        Object v = get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw ConfigException.badValue(key, v, "must be a list");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object item : list) {
            String where = key + "[" + out.size() + "]";
            if (!(item instanceof Map<?, ?> m)) {
                throw ConfigException.badValue(where, item, "must be a section of keys: "
                        + String.join(", ", keys));
            }
            Map<String, Object> section = stringKeys(m, where);
            for (String k : section.keySet()) {
                if (!keys.contains(k)) {
                    throw new ConfigException("config key " + where + "." + k + " is unknown; "
                            + "known keys: " + String.join(", ", keys));
                }
            }
            out.add(section);
        }
        return out;
    }
}
