package org.tlspolicy.tlsrpt;

import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.postfix.Postconf;

import java.util.List;
import java.util.Optional;
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

    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)");

    public static final TlsrptMode OFF = new TlsrptMode(false, Optional.empty(), "tlsrpt: off");

    /** Decides from the config value {@code auto}, {@code on} or {@code off}. */
    public static TlsrptMode of(String setting) {
        return of(setting, new DaemonConfig.Postfix(Optional.empty(), Optional.empty()));
    }

    /**
     * Decides from the config value {@code auto}, {@code on} or {@code off}, asking the Postfix
     * that {@code postfix} describes.
     */
    public static TlsrptMode of(String setting, DaemonConfig.Postfix postfix) {
        if (setting.equals("off")) {
            return OFF;
        }
        Optional<List<String>> postconf = postconf(postfix);
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
    public static boolean supports(String mailVersion) {
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
    private static Optional<List<String>> postconf(DaemonConfig.Postfix postfix) {
        Optional<Postconf> postconf = Postconf.find(postfix.postconf(),
                postfix.configDirectory());
        if (postconf.isEmpty()) {
            return Optional.empty();
        }
        Optional<List<String>> both = postconf.get().values("mail_version",
                "smtp_tls_security_level");
        if (both.isPresent()) {
            return both;
        }
        return postconf.get().defaultValue("mail_version").map(v -> List.of(v, ""));
    }
}
