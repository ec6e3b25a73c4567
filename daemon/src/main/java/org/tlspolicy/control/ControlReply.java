package org.tlspolicy.control;

import java.util.List;

/**
 * The answer on the control socket: {@code ok} or {@code error: WHY} on the first line, then
 * the lines to show the operator. The connection then closes, which ends the reply.
 */
public record ControlReply(boolean ok, String error, List<String> lines) {

    public ControlReply {
        lines = List.copyOf(lines);
    }

    public static ControlReply ok(List<String> lines) {
        return new ControlReply(true, "", lines);
    }

    public static ControlReply error(String why) {
        return new ControlReply(false, why.replace('\n', ' '), List.of());
    }

    /** The reply as sent. */
    public String text() {
        StringBuilder b = new StringBuilder(ok ? "ok\n" : "error: " + error + "\n");
        lines.forEach(l -> b.append(l).append('\n'));
        return b.toString();
    }
}
