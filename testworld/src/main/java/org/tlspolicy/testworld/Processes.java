package org.tlspolicy.testworld;

import java.util.concurrent.TimeUnit;

/** Stopping the servers a test started. */
final class Processes {

    private Processes() {
    }

    /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
    static void stop(Process process) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
