package org.tlspolicy.it;

import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.containers.wait.strategy.WaitStrategy;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shell steps in the test images' containers, and where those images' names come from. */
final class ContainerShell {

    private ContainerShell() {
    }

    /** The image scripts/lib/docker.sh built and named in {@code variable}. */
    static String image(String variable) {
        String image = System.getenv(variable);
        if (image == null || image.isBlank()) {
            throw new IllegalStateException(variable + " is not set: run the tests with "
                    + "./scripts/test (scripts/lib/docker.sh builds the image)");
        }
        return image;
    }

    /**
     * A wait strategy that waits for nothing: each test knows itself when its container is
     * ready (Postfix's log line, systemd's answer).
     */
    static WaitStrategy noWait() {
        return new AbstractWaitStrategy() {
            @Override
            protected void waitUntilReady() {
            }
        };
    }

    /** Runs {@code script} with {@code sh -e}; fails the test with its output if it fails. */
    static String run(GenericContainer<?> c, String script) throws Exception {
        Container.ExecResult r = c.execInContainer("sh", "-ec", script);
        assertEquals(0, r.getExitCode(), script + "\n" + r.getStdout() + r.getStderr());
        return r.getStdout();
    }
}
