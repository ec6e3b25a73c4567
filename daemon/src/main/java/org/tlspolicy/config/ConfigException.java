package org.tlspolicy.config;

/** A configuration that cannot be used; the message names the key, the value and the rule. */
public final class ConfigException extends Exception {

    public ConfigException(String message) {
        super(message);
    }

    static ConfigException badValue(String key, Object value, String allowed) {
        return new ConfigException("config key " + key + ": " + describe(value) + " " + allowed);
    }

    private static String describe(Object value) {
        if (value == null) {
            return "no value";
        }
        return value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
    }
}
