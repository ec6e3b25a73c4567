package org.tlspolicy.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP handling, the Unix convention for "re-read your configuration" that systemd's
 * {@code ExecReload=kill -HUP $MAINPID} relies on. The JDK offers signals other than those of
 * shutdown only through {@code sun.misc.Signal} (module jdk.unsupported, present in every JDK).
 */
public final class HangupSignal {

    private static final Logger log = LoggerFactory.getLogger(HangupSignal.class);

    private HangupSignal() {
    }

    /**
     * Runs {@code action} on each SIGHUP, on a thread of its own.
     *
     * @return whether SIGHUP will reach it: not when the process was started with SIGHUP
     *         ignored (under nohup, or by a parent that ignores it), which HotSpot then leaves
     *         ignored whatever handler is installed (and says so only by returning SIG_IGN)
     */
    public static boolean onHangup(Runnable action) {
        try {
            sun.misc.SignalHandler old = Signal.handle(new Signal("HUP"),
                    signal -> new Thread(action, "reload").start());
            if (old == sun.misc.SignalHandler.SIG_IGN) {
                log.warn("SIGHUP is ignored in this process (it was started with SIGHUP "
                        + "ignored, e.g. under nohup): kill -HUP and systemctl reload will not "
                        + "reload; start it without nohup (systemd does)");
                return false;
            }
            return true;
        } catch (IllegalArgumentException e) {
            log.warn("SIGHUP cannot be handled here, reload unavailable: {}", e.getMessage());
            return false;
        }
    }
}
