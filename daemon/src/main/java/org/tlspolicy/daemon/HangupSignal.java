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

    /** Runs {@code action} on each SIGHUP, on a thread of its own. */
    public static void onHangup(Runnable action) {
        try {
            Signal.handle(new Signal("HUP"), signal -> new Thread(action, "reload").start());
        } catch (IllegalArgumentException e) {
            log.warn("SIGHUP cannot be handled here, reload unavailable: {}", e.getMessage());
        }
    }
}
