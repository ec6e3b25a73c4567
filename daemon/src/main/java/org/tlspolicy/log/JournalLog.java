package org.tlspolicy.log;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * The daemon's log as operators read it in journalctl: {@code LEVEL message} on standard
 * output, one line per event (journald adds the time and the unit), SLF4J level names. SLF4J
 * logs through the JDK's java.util.logging here (slf4j-jdk14) because its levels can change
 * while the daemon runs, which a reload of {@code log_level} needs.
 */
public final class JournalLog {

    /** Held so that their levels are not lost with a collected logger. */
    private static Logger netty;
    private static Logger lettuce;

    private JournalLog() {
    }

    /**
     * Makes java.util.logging keep its handlers to the end: its own LogManager closes them in a
     * shutdown hook, which would lose the lines of the graceful stop (also a shutdown hook).
     * Call first thing in main, before any logger exists (this class makes none until
     * {@link #install}).
     */
    public static void keepHandlersAtExit() {
        System.setProperty("java.util.logging.manager", Manager.class.getName());
    }

    /** A LogManager whose reset, called by the JDK at exit, leaves the handlers in place. */
    public static final class Manager extends LogManager {
        @Override
        public void reset() {
            // The JVM is stopping, or the configuration is being (re)read at start: the
            // handlers install() sets are wanted until the very end.
        }
    }

    /** Sends every log line to standard output at {@code level} (an SLF4J level name). */
    public static synchronized void install(String level) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        // A StreamHandler on System.out: a ConsoleHandler given another stream would close
        // its own, System.err, on the way.
        Handler out = new StreamHandler(System.out, new LineFormatter()) {
            @Override
            public synchronized void publish(LogRecord r) {
                super.publish(r);
                flush(); // journald sees each line as it happens
            }

            @Override
            public synchronized void close() {
                flush(); // never close System.out
            }
        };
        out.setLevel(Level.ALL);
        root.addHandler(out);
        // Netty's own messages are for its developers: warnings and worse only.
        netty = Logger.getLogger("io.netty");
        netty.setLevel(Level.WARNING);
        // Lettuce (fleet mode) logs each reconnection attempt; SharedCache logs the server's
        // state changes once each instead.
        lettuce = Logger.getLogger("io.lettuce");
        lettuce.setLevel(Level.SEVERE);
        level(level);
    }

    /** Changes the level of every logger but Netty's; {@code level} is an SLF4J level name. */
    public static synchronized void level(String level) {
        Logger.getLogger("").setLevel(julLevel(level));
    }

    static Level julLevel(String slf4j) {
        return switch (slf4j.toLowerCase(Locale.ROOT)) {
            case "trace" -> Level.FINEST;
            case "debug" -> Level.FINE;
            case "info" -> Level.INFO;
            case "warn" -> Level.WARNING;
            case "error" -> Level.SEVERE;
            case "off" -> Level.OFF;
            default -> throw new IllegalArgumentException("unknown log level " + slf4j);
        };
    }

    static String slf4jName(Level level) {
        int v = level.intValue();
        return v >= Level.SEVERE.intValue() ? "ERROR" : v >= Level.WARNING.intValue() ? "WARN"
                : v >= Level.INFO.intValue() ? "INFO" : v >= Level.FINE.intValue() ? "DEBUG"
                : "TRACE";
    }

    /** {@code LEVEL message}, and the stack trace of a thrown exception after it. */
    static final class LineFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder b = new StringBuilder(slf4jName(r.getLevel())).append(' ')
                    .append(formatMessage(r)).append('\n');
            if (r.getThrown() != null) {
                StringWriter trace = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(trace));
                b.append(trace);
            }
            return b.toString();
        }
    }
}
