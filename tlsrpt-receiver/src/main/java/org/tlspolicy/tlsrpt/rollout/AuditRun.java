package org.tlspolicy.tlsrpt.rollout;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code tlspolicyd audit --json DOMAIN} (the same package installs it) and keeps what it
 * printed: the audit is tlspolicyd's, with its DNS, DNSSEC and TLS rules; this program only
 * reads its JSON.
 *
 * @param json     the command's output
 * @param exitCode 0 ok, 1 warnings, 2 failures (tlspolicyd audit's)
 */
public record AuditRun(String json, int exitCode) {

    /** The most output read: an audit is a few kilobytes. */
    static final int MAX_OUTPUT = 4 << 20;

    /**
     * Runs {@code command} (e.g. {@code [tlspolicyd]}) with {@code audit --json DOMAIN}, within
     * {@code timeout}.
     */
    public static AuditRun of(List<String> command, String domain, Duration timeout)
            throws IOException {
        List<String> argv = new ArrayList<>(command);
        argv.addAll(List.of("audit", "--json", domain));
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.PIPE).start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> read(
                p.getErrorStream()));
        byte[] out = read(p.getInputStream());
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " audit did not finish "
                        + "within " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        int code = p.exitValue();
        if (code > 2) {
            throw new IOException(String.join(" ", command) + " audit could not run (exit "
                    + code + "): " + new String(err.join(), StandardCharsets.UTF_8).strip());
        }
        return new AuditRun(new String(out, StandardCharsets.UTF_8), code);
    }

    private static byte[] read(InputStream in) {
        try (in) {
            byte[] b = in.readNBytes(MAX_OUTPUT);
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return b;
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
