package org.tlspolicy.tlsrpt;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether replies carry TLSRPT attributes, and what level a reply with only a
 * {@code policy_failure} uses. Config {@code tlsrpt: auto|on|off}; {@code auto} asks
 * {@code postconf} for the Postfix version (3.10 or later: on) and its default security level.
 *
 * @param enabled      add TLSRPT attributes to replies
 * @param defaultLevel the level of Postfix's {@code smtp_tls_security_level}, used for replies
 *                     that report a policy failure without applying a policy; empty when unknown
 *                     or not {@code may}/{@code encrypt} (then such replies are NOTFOUND, so that
 *                     reporting never changes how the mail is sent)
 * @param why          how it was decided, for the start-up log
 */
public record TlsrptMode(boolean enabled, Optional<String> defaultLevel, String why) {

    private static final Logger log = LoggerFactory.getLogger(TlsrptMode.class);
    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)");
    private static final List<String> POSTCONF = List.of("/usr/sbin/postconf", "/usr/bin/postconf");

    public static final TlsrptMode OFF = new TlsrptMode(false, Optional.empty(), "tlsrpt: off");

    /** Decides from the config value {@code auto}, {@code on} or {@code off}. */
    public static TlsrptMode of(String setting) {
        if (setting.equals("off")) {
            return OFF;
        }
        Optional<List<String>> postconf = postconf();
        Optional<String> level = postconf.map(v -> v.get(1)).filter(l -> l.equals("may")
                || l.equals("encrypt"));
        if (setting.equals("on")) {
            return new TlsrptMode(true, level, "tlsrpt: on");
        }
        if (postconf.isEmpty()) {
            return new TlsrptMode(false, Optional.empty(), "tlsrpt: auto, postconf not found");
        }
        String version = postconf.get().get(0);
        boolean supported = supports(version);
        return new TlsrptMode(supported, level, "tlsrpt: auto, Postfix " + version
                + (supported ? " reads TLSRPT attributes" : " predates TLSRPT (3.10)"));
    }

    /** Postfix 3.10 and later read TLSRPT attributes. */
    static boolean supports(String mailVersion) {
        Matcher m = VERSION.matcher(mailVersion);
        if (!m.lookingAt()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 3 || (major == 3 && minor >= 10);
    }

    /**
     * {@code [mail_version, smtp_tls_security_level]} from postconf, or empty. Without a main.cf
     * (Postfix installed but not configured) only the compiled-in version is known, and the
     * level is empty.
     */
    private static Optional<List<String>> postconf() {
        for (String p : POSTCONF) {
            if (!Files.isExecutable(Path.of(p))) {
                continue;
            }
            Optional<List<String>> both = run(p, "-h", "mail_version", "smtp_tls_security_level");
            if (both.isPresent() && both.get().size() == 2) {
                return both;
            }
            Optional<List<String>> version = run(p, "-d", "-h", "mail_version");
            if (version.isPresent() && version.get().size() == 1) {
                return Optional.of(List.of(version.get().get(0), ""));
            }
        }
        return Optional.empty();
    }

    private static Optional<List<String>> run(String... command) {
        try {
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readNBytes(4096),
                    StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return Optional.empty();
            }
            return process.exitValue() == 0
                    ? Optional.of(out.lines().map(String::strip).toList()) : Optional.empty();
        } catch (IOException e) {
            log.debug("{} failed: {}", command[0], e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
