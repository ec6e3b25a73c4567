package org.tlspolicy.control;

import org.tlspolicy.nexthop.NextHop;

/**
 * One request on the control socket: a line of UTF-8 text, {@code list}, {@code show DOMAIN},
 * {@code purge DOMAIN REASON…} or {@code refresh DOMAIN REASON…}. The actions that change
 * what the daemon answers need a reason, which is logged with who asked. Anything else is
 * {@link Invalid}, answered with an error and acted on never.
 */
public sealed interface ControlRequest {

    /** The longest request line read. */
    int MAX_LINE = 2048;

    /** Every domain cached, in memory and in the store. */
    record ListAll() implements ControlRequest {
    }

    /** What Postfix would be answered for {@code domain} now, and why. */
    record Show(String domain) implements ControlRequest {
    }

    /** Forget {@code domain}'s cached results: the next lookup resolves afresh. */
    record Purge(String domain, String reason) implements ControlRequest {
    }

    /** Resolve {@code domain} again now; a failed refresh keeps what may still answer. */
    record Refresh(String domain, String reason) implements ControlRequest {
    }

    /** Not a request: {@code why}. */
    record Invalid(String why) implements ControlRequest {
    }

    /** Parses one request line (without its newline). */
    static ControlRequest parse(String line) {
        String[] words = line.strip().split("\\s+", 3);
        String verb = words[0];
        if (verb.equals("list")) {
            return words.length == 1 ? new ListAll() : new Invalid("list takes no arguments");
        }
        if (!verb.equals("show") && !verb.equals("purge") && !verb.equals("refresh")) {
            return new Invalid("unknown request '" + shortened(verb)
                    + "': list, show, purge, refresh");
        }
        if (words.length < 2) {
            return new Invalid(verb + " needs a domain");
        }
        if (!(NextHop.parse(words[1]) instanceof NextHop.Domain d)) {
            return new Invalid("'" + shortened(words[1]) + "' is not a domain (relays and "
                    + "address literals are never cached)");
        }
        String reason = words.length == 3 ? words[2].strip() : "";
        return switch (verb) {
            case "show" -> reason.isEmpty() ? new Show(d.name())
                    : new Invalid("show takes one domain");
            default -> reason.isEmpty() ? new Invalid(verb + " needs a reason (it is logged)")
                    : verb.equals("purge") ? new Purge(d.name(), reason)
                    : new Refresh(d.name(), reason);
        };
    }

    /** What a client sent, as far as an error message repeats it: 40 characters. */
    private static String shortened(String word) {
        return word.length() > 40 ? word.substring(0, 40) + "…" : word;
    }
}
