package org.tlspolicy.metrics;

import java.util.List;

/**
 * What /health says: healthy while there are no {@code problems} (each a reason the daemon
 * cannot keep its promises now: stopping, a cache file it cannot write), with {@code notices}
 * of trouble that is over but should be looked at (a corrupt file replaced at start).
 */
public record Health(List<String> problems, List<String> notices) {

    public Health {
        problems = List.copyOf(problems);
        notices = List.copyOf(notices);
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    /** {@code ok} or {@code unhealthy}, then one line per problem and notice. */
    public String text() {
        StringBuilder b = new StringBuilder(ok() ? "ok\n" : "unhealthy\n");
        problems.forEach(p -> b.append("problem: ").append(p).append('\n'));
        notices.forEach(n -> b.append("notice: ").append(n).append('\n'));
        return b.toString();
    }
}
