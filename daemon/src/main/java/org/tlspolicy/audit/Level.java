package org.tlspolicy.audit;

/** How a check came out, in the order of gravity: what {@code audit}'s exit code reports. */
public enum Level {
    OK("ok"), WARN("warn"), FAIL("FAIL");

    private final String word;

    Level(String word) {
        this.word = word;
    }

    /** {@code ok}, {@code warn} or {@code FAIL}, as the table prints it. */
    public String word() {
        return word;
    }

    /** The graver of the two. */
    public Level max(Level other) {
        return compareTo(other) >= 0 ? this : other;
    }
}
