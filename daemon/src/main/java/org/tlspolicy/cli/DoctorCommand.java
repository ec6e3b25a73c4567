package org.tlspolicy.cli;

import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.daemon.PolicyEngine;
import org.tlspolicy.dane.DaneLookup;
import org.tlspolicy.dane.DaneResolver;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.dns.Dnssec;
import org.tlspolicy.policy.DomainOverride;
import org.tlspolicy.postfix.Postconf;
import org.tlspolicy.postfix.TlsLogLevel;
import org.tlspolicy.postfix.TlsrptSocket;
import org.tlspolicy.socketmap.ListenAddress;
import org.tlspolicy.socketmap.SocketmapClient;
import org.tlspolicy.tlsrpt.TlsrptMode;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.tlspolicy.log.JournalLog;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code tlspolicyd doctor}: checks that Postfix and the daemon are set up so that its replies
 * work (shared README §2): Postfix asks the daemon, can use DANE replies (DNSSEC support and a
 * validating resolver it can trust), reads TLSRPT attributes only if its version does, and the
 * daemon's own DNSSEC answers validate. Each check prints one line, {@code ok}, {@code warn} or
 * {@code FAIL}, and what to change. Reads only; changes nothing.
 */
@Command(name = "doctor", description = "Check the Postfix and resolver setup for tlspolicyd.")
final class DoctorCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = Main.CONFIG_HELP)
    Path configFile;

    @Option(names = "--postfix-config", paramLabel = "DIR",
            description = "Postfix configuration directory (postconf -c); default: the "
                    + "config's postfix.config_directory, else Postfix's.")
    Path postfixConfig;

    @Option(names = "--resolv-conf", paramLabel = "FILE",
            description = "The resolv.conf Postfix's smtp(8) reads; default: "
                    + "$queue_directory/etc/resolv.conf if smtp runs chrooted, else "
                    + "/etc/resolv.conf.")
    Path resolvConf;

    @Option(names = "--probe-name", paramLabel = "NAME", defaultValue = ".",
            description = "A DNSSEC-signed name whose SOA must validate (default: the root).")
    String probeName;

    @Option(names = "--resolver", paramLabel = "ADDRESS",
            description = "Check only that the resolver at ADDRESS (e.g. 127.0.0.1, a freshly "
                    + "installed unbound) answers and validates DNSSEC, and exit: 0 if it does, "
                    + "4 if not. Before pointing /etc/resolv.conf at it.")
    String resolver;

    /** resolv.conf cannot name a port; a test world's resolver is not on 53. */
    @Option(names = "--resolver-port", hidden = true, defaultValue = "53")
    int resolverPort;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private enum Status { OK, WARN, FAIL }

    private record Check(Status status, String what, String detail) {
        String line() {
            String word = switch (status) {
                case OK -> "ok  ";
                case WARN -> "warn";
                case FAIL -> "FAIL";
            };
            return word + "  " + what + ": " + detail;
        }
    }

    private final List<Check> checks = new ArrayList<>();

    @Override
    public Integer call() {
        if (resolver != null) {
            return resolverOnly();
        }
        Path file = Main.configFile(configFile);
        Optional<DaemonConfig> loaded = Main.config(file, spec);
        if (loaded.isEmpty()) {
            return Main.EXIT_CONFIG;
        }
        DaemonConfig config = loaded.get();
        add(Status.OK, "config", Main.describeConfig(file));
        JournalLog.install("warn");
        Name probe;
        try {
            probe = Name.fromString(probeName, Name.root);
        } catch (TextParseException e) {
            spec.commandLine().getErr().println("tlspolicyd: --probe-name: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        Optional<Path> postfixDir = postfixConfig != null ? Optional.of(postfixConfig)
                : config.postfix().configDirectory();
        Optional<Postconf> postconf = Postconf.find(config.postfix().postconf(), postfixDir);
        Optional<List<String>> values = postconf.flatMap(p -> p.values("mail_version",
                "smtp_tls_policy_maps", "smtp_dns_support_level", "smtp_tls_security_level",
                "queue_directory"));
        if (values.isEmpty()) {
            add(Status.FAIL, "postfix", postconf.isEmpty() ? "postconf not found: is Postfix "
                    + "installed?" : "postconf cannot read the configuration"
                    + postfixDir.map(d -> " in " + d).orElse("")
                    + ": is Postfix configured (main.cf)?");
        } else {
            List<String> v = values.get();
            add(Status.OK, "postfix", "version " + v.get(0));
            checkPolicyMaps(config, v.get(1));
            if (config.dane().enabled()) {
                checkDnsSupport(v.get(2));
                checkResolver(postconf.get(), v.get(4), probe);
            }
            checkSecurityLevel(config, v.get(3));
            checkTlsrpt(config, v.get(0));
            if (TlsrptMode.supports(v.get(0))) {
                checkStsMxPatterns(postconf.get(), config, v.get(0));
            }
            if (checkReportSource(postconf.get(), v.get(0), v.get(4))) {
                checkTlsLogging(postconf.get());
            }
        }
        checkListening(config);
        checkOverrides(config);
        if (config.dane().enabled()) {
            checkDaemonDnssec(config, probe);
        }
        PrintWriter out = spec.commandLine().getOut();
        for (Check c : checks) {
            out.println(c.line());
        }
        long failed = checks.stream().filter(c -> c.status() == Status.FAIL).count();
        long warned = checks.stream().filter(c -> c.status() == Status.WARN).count();
        out.println(failed == 0 ? "no problems found" + (warned == 0 ? "" : " (" + warned
                + " warning" + (warned == 1 ? "" : "s") + ")")
                : failed + " problem" + (failed == 1 ? "" : "s") + " to fix");
        out.flush();
        return failed == 0 ? Main.EXIT_OK : Main.EXIT_PROBLEMS;
    }

    /** {@code --resolver}: the one check, its line, its exit code. */
    private int resolverOnly() {
        PrintWriter out = spec.commandLine().getOut();
        Name probe;
        InetAddress address;
        try {
            probe = Name.fromString(probeName, Name.root);
            address = InetAddress.getByName(resolver);
        } catch (IOException e) {
            spec.commandLine().getErr().println("tlspolicyd: --resolver " + resolver + ": not "
                    + "an address");
            return Main.EXIT_USAGE;
        }
        String answer = adBit(new InetSocketAddress(address, resolverPort), probe);
        Check c = answer.equals("AD")
                ? new Check(Status.OK, "resolver", resolver + " validates (" + probe
                + " SOA authenticated)")
                : new Check(Status.FAIL, "resolver", resolver + ": " + answer + "; do not point "
                + "resolv.conf at it yet (is it running? can it reach the internet?)");
        out.println(c.line());
        out.flush();
        return c.status() == Status.OK ? Main.EXIT_OK : Main.EXIT_PROBLEMS;
    }

    private void add(Status s, String what, String detail) {
        checks.add(new Check(s, what, detail));
    }

    /** smtp_tls_policy_maps must name one of the daemon's listeners with its map name. */
    private void checkPolicyMaps(DaemonConfig config, String maps) {
        List<String> wanted = new ArrayList<>();
        for (ListenAddress l : config.listen()) {
            if (l instanceof ListenAddress.Tcp tcp) {
                InetSocketAddress a = tcp.address();
                String host = a.getAddress().getHostAddress();
                wanted.add("socketmap:inet:" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host)
                        + ":" + a.getPort() + ":" + config.mapName());
            } else if (l instanceof ListenAddress.Unix unix) {
                wanted.add("socketmap:unix:" + unix.path() + ":" + config.mapName());
                // A chrooted smtp(8) names the socket relative to the queue directory.
                String path = unix.path().toString();
                int at = path.indexOf("/private/");
                if (at >= 0) {
                    wanted.add("socketmap:unix:" + path.substring(at + 1) + ":"
                            + config.mapName());
                }
            }
        }
        for (String entry : maps.split("[\\s,]+")) {
            if (wanted.contains(entry)) {
                add(Status.OK, "smtp_tls_policy_maps", "asks tlspolicyd (" + entry + ")");
                return;
            }
        }
        add(Status.FAIL, "smtp_tls_policy_maps", (maps.isEmpty() ? "empty" : "is " + maps
                + ", which does not ask tlspolicyd") + "; set in main.cf: "
                + "smtp_tls_policy_maps = " + wanted.get(0));
    }

    /**
     * Each listener must answer a lookup of the configured map: a main.cf that names the right
     * address is no use while nothing (or another program) listens there. An address literal
     * is asked, which tlspolicyd answers from the key alone, without network.
     */
    private void checkListening(DaemonConfig config) {
        for (ListenAddress l : config.listen()) {
            String reply;
            try {
                reply = SocketmapClient.askOnce(l instanceof ListenAddress.Tcp t ? t.address()
                        : UnixDomainSocketAddress.of(((ListenAddress.Unix) l).path()),
                        config.mapName(), "[127.0.0.1]", Duration.ofSeconds(5));
            } catch (IOException e) {
                add(Status.FAIL, "listener", "nothing answers on " + l + " ("
                        + (e.getMessage() == null ? "no answer" : e.getMessage()) + "): start "
                        + "the daemon (systemctl start tlspolicyd) and look at journalctl -u "
                        + "tlspolicyd; or give doctor its --config");
                continue;
            }
            if (reply.startsWith("NOTFOUND") || reply.startsWith("OK")) {
                add(Status.OK, "listener", "answers on " + l + " (map " + config.mapName()
                        + ")");
            } else {
                add(Status.FAIL, "listener", "something answers on " + l + " but not as "
                        + "tlspolicyd with map " + config.mapName() + " would ('" + reply
                        + "'): another program holds the address (postfix-mta-sts-resolver "
                        + "listens on 127.0.0.1:8461 too), or socketmap.map_name differs");
            }
        }
    }

    /**
     * Overrides are for a while: one that expired is ignored (and should go); one that hides
     * a domain whose DANE applies gives up the strongest protection there is for it.
     */
    private void checkOverrides(DaemonConfig config) {
        DaneResolver dane = null;
        for (DomainOverride o : config.overrides()) {
            String what = "override " + o.domain();
            if (!o.activeAt(System.currentTimeMillis())) {
                add(Status.WARN, what, "expired on " + o.expires().orElseThrow() + " and is "
                        + "ignored: remove it from the configuration");
                continue;
            }
            if (config.dane().enabled()) {
                try {
                    if (dane == null) {
                        dane = new DaneResolver(PolicyEngine.daneDnsClient(config));
                    }
                    DaneLookup l = dane.resolve(o.domain()).get(30, TimeUnit.SECONDS);
                    if (l instanceof DaneLookup.Applies) {
                        add(Status.WARN, what, "hides DANE, which applies to " + o.domain()
                                + " (usable TLSA records at " + String.join(", ", l.hosts()
                                .stream().map(h -> h.host()).toList()) + "): the override's "
                                + "policy=\"" + o.policyText() + "\" replaces dane-only; "
                                + "remove it once the receiver's problem is fixed");
                        continue;
                    }
                } catch (Exception e) {
                    add(Status.WARN, what, "could not check whether it hides DANE: "
                            + ErrorWords.of(e));
                    continue;
                }
            }
            add(Status.OK, what, "policy=\"" + o.policyText() + "\" reason=\"" + o.reason()
                    + "\"" + o.expires().map(d -> " until " + d).orElse(" (no expiry)"));
        }
    }

    private void checkDnsSupport(String level) {
        if (level.equals("dnssec")) {
            add(Status.OK, "smtp_dns_support_level", "dnssec");
        } else {
            add(Status.FAIL, "smtp_dns_support_level", "is " + (level.isEmpty() ? "empty"
                    : level) + ": Postfix cannot use the dane and dane-only replies (it looks "
                    + "TLSA records up itself, with DNSSEC); set in main.cf: "
                    + "smtp_dns_support_level = dnssec");
        }
    }

    /**
     * Postfix trusts the AD bit of the resolvers in the resolv.conf its smtp(8) reads, so they
     * must validate, and be on loopback (an AD bit from the network could be forged).
     */
    private void checkResolver(Postconf postconf, String queueDirectory, Name probe) {
        Path file = resolvConf;
        if (file == null) {
            boolean chroot = postconf.masterEntry("smtp/unix")
                    .map(f -> f.size() > 4 && !f.get(4).equals("n")).orElse(false);
            file = chroot ? Path.of(queueDirectory, "etc", "resolv.conf")
                    : Path.of("/etc/resolv.conf");
        }
        List<String> servers = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 2 && f[0].equals("nameserver")) {
                    servers.add(f[1]);
                }
            }
        } catch (IOException e) {
            add(Status.FAIL, "resolver", "cannot read " + file + " (" + e.getMessage()
                    + "), the resolv.conf Postfix's smtp(8) reads");
            return;
        }
        if (servers.isEmpty()) {
            add(Status.WARN, "resolver", file + " names no nameserver: Postfix asks "
                    + "127.0.0.1, which must be a validating resolver");
            servers.add("127.0.0.1");
        }
        for (String server : servers) {
            InetAddress address;
            try {
                address = InetAddress.getByName(server);
            } catch (IOException e) {
                add(Status.FAIL, "resolver", file + ": bad nameserver " + server);
                continue;
            }
            if (!address.isLoopbackAddress()) {
                add(Status.FAIL, "resolver", file + ": nameserver " + server + " is not on "
                        + "loopback, and Postfix trusts its AD bit: run a validating resolver "
                        + "(e.g. unbound) on 127.0.0.1 and name only it there");
                continue;
            }
            String answer = adBit(new InetSocketAddress(address, resolverPort), probe);
            add(answer.equals("AD") ? Status.OK : Status.FAIL, "resolver", file
                    + ": nameserver " + server + (answer.equals("AD") ? " validates ("
                    + probe + " SOA authenticated)" : ": " + answer + "; Postfix needs a "
                    + "validating resolver there for DANE"));
        }
    }

    /** "AD" if the resolver's answer for {@code probe} SOA is authenticated, else why not. */
    private static String adBit(InetSocketAddress server, Name probe) {
        try {
            SimpleResolver r = new SimpleResolver(server);
            r.setTimeout(Duration.ofSeconds(3));
            Message q = Message.newQuery(Record.newRecord(probe, Type.SOA, DClass.IN));
            q.getHeader().setFlag(Flags.AD);
            Message m = r.send(q);
            if (m.getRcode() != 0) {
                return "answered " + Rcode.string(m.getRcode()) + " for " + probe
                        + " SOA";
            }
            return m.getHeader().getFlag(Flags.AD) ? "AD"
                    : "does not validate (" + probe + " SOA not authenticated)";
        } catch (IOException e) {
            return "no answer (" + (e instanceof java.net.SocketTimeoutException
                    ? "timed out after 3 s" : ErrorWords.of(e)) + ")";
        }
    }

    private void checkSecurityLevel(DaemonConfig config, String level) {
        String l = level.isEmpty() ? "empty (no TLS)" : level;
        if (!config.dane().enabled() || level.equals("dane") || level.equals("dane-only")) {
            add(Status.OK, "smtp_tls_security_level", l + ": applies where tlspolicyd answers "
                    + "NOTFOUND");
        } else {
            add(Status.WARN, "smtp_tls_security_level", l + ": applies where tlspolicyd "
                    + "answers NOTFOUND (no DANE, no MTA-STS); with smtp_tls_security_level = "
                    + "dane, Postfix still uses TLS opportunistically there and mandatory TLS "
                    + "for hosts with unusable TLSA records (RFC 7672 §2.2)");
        }
    }

    private void checkTlsrpt(DaemonConfig config, String version) {
        boolean supported = TlsrptMode.supports(version);
        String setting = config.tlsrpt();
        if (setting.equals("on") && !supported) {
            add(Status.FAIL, "tlsrpt", "is on, but Postfix " + version + " rejects TLSRPT "
                    + "attributes (3.10 or later reads them) and would defer mail; set "
                    + "tlsrpt: auto");
        } else if (setting.equals("off") && supported) {
            add(Status.WARN, "tlsrpt", "is off, but Postfix " + version + " can report which "
                    + "policy it applied (TLSRPT); set tlsrpt: auto");
        } else {
            add(Status.OK, "tlsrpt", setting + ": attributes " + (supported
                    && !setting.equals("off") ? "sent" : "not sent") + " (Postfix " + version
                    + ")");
        }
    }

    /**
     * Postfix 3.10.5's smtp_tls_enforce_sts_mx_patterns (default yes) makes the mx_host_pattern
     * attributes of an MTA-STS reply restrict the MX hosts Postfix connects to, and match the
     * certificate against the MX host name with RFC 8461 §4.1's one-label wildcards; without it
     * Postfix connects to any MX and matches tlspolicyd's match list, where .example.net covers
     * names at any depth.
     */
    private void checkStsMxPatterns(Postconf postconf, DaemonConfig config, String version) {
        Optional<String> value = postconf.values("smtp_tls_enforce_sts_mx_patterns")
                .map(l -> l.get(0));
        boolean attributes = !config.tlsrpt().equals("off");
        String what = "smtp_tls_enforce_sts_mx_patterns";
        if (value.isEmpty()) {
            add(Status.WARN, what, "Postfix " + version + " does not have it (3.10.5 and later "
                    + "do): it connects to MX hosts an MTA-STS policy does not list and "
                    + "matches *.example.net at any depth; upgrade Postfix");
        } else if (!attributes) {
            add(Status.WARN, what, value.get() + ", but without effect: tlsrpt is off, so "
                    + "replies carry no mx_host_pattern attributes; set tlsrpt: auto");
        } else if (value.get().equals("yes")) {
            add(Status.OK, what, "yes: Postfix connects only to the MX hosts an MTA-STS policy "
                    + "lists (mx_host_pattern) and matches their certificates against the MX "
                    + "name, wildcards one label deep (RFC 8461 §4.1)");
        } else {
            add(Status.WARN, what, value.get() + ": Postfix also connects to MX hosts an "
                    + "MTA-STS policy does not list, and matches *.example.net at any depth; "
                    + "set smtp_tls_enforce_sts_mx_patterns = yes (the default)");
        }
    }

    /**
     * Reports counted from the log need Postfix to log each TLS session: at smtp_tls_loglevel
     * 0 (the default) a session with TLS looks like one in the clear, and tlsrpt-sender counts
     * nothing rather than report every delivery as starttls-not-supported.
     */
    private void checkTlsLogging(Postconf postconf) {
        Optional<String> problem = TlsLogLevel.problem(postconf);
        if (problem.isPresent()) {
            add(Status.WARN, "smtp_tls_loglevel", "tlsrpt-sender collect --journal counts "
                    + "nothing: " + problem.get());
        } else {
            add(Status.OK, "smtp_tls_loglevel", "Postfix logs each TLS session (what "
                    + "tlsrpt-sender counts)");
        }
    }

    /**
     * Where TLS-RPT reports should come from: Postfix before 3.10 only logs TLS outcomes;
     * 3.10 and later built with libtlsrpt send a datagram per TLS session when their TLSRPT
     * client is on, and then the socket must be reachable by the (possibly chrooted) smtp(8)
     * and have a collector (tlsrpt-sender collect --datagram-socket) receiving on it.
     *
     * @return whether the reports are to be collected from Postfix's log
     */
    private boolean checkReportSource(Postconf postconf, String version,
                                      String queueDirectory) {
        String what = "tlsrpt source";
        if (!TlsrptMode.supports(version)) {
            add(Status.OK, what, "Postfix " + version + " only logs TLS outcomes: collect them "
                    + "with tlsrpt-sender collect --journal (or --log FILE)");
            return true;
        }
        Optional<List<String>> v = postconf.values("smtp_tlsrpt_enable",
                "smtp_tlsrpt_socket_name", "mail_owner", "daemon_directory", "shlib_directory");
        if (v.isEmpty()) {
            add(Status.WARN, what, "postconf does not know smtp_tlsrpt_enable: collect from "
                    + "the log with tlsrpt-sender collect --journal (or --log FILE)");
            return true;
        }
        String enable = v.get().get(0);
        String name = v.get().get(1);
        Path smtp = Path.of(v.get().get(3), "smtp");
        boolean linked = !Files.isReadable(smtp) || linksLibtlsrpt(smtp, v.get().get(4));
        if (!enable.equals("yes")) {
            add(Status.OK, what, "Postfix's TLSRPT client is off (smtp_tlsrpt_enable = "
                    + enable + "): collect from the log with tlsrpt-sender collect --journal, "
                    + (linked ? "or turn it on for exact per-session reports: "
                    + "smtp_tlsrpt_enable = yes, smtp_tlsrpt_socket_name = "
                    + "run/tlsrpt/tlsrpt.sock and tlsrpt-sender collect --datagram-socket "
                    + Path.of(queueDirectory, "run/tlsrpt/tlsrpt.sock")
                    : "(this Postfix is built without libtlsrpt)"));
            return true;
        }
        if (!linked) {
            add(Status.FAIL, what, "smtp_tlsrpt_enable = yes, but " + smtp + " is built "
                    + "without libtlsrpt: it reports nothing; collect from the log instead "
                    + "(tlsrpt-sender collect --journal) and set smtp_tlsrpt_enable = no");
            return false;
        }
        if (name.isEmpty()) {
            add(Status.FAIL, what, "smtp_tlsrpt_enable = yes without smtp_tlsrpt_socket_name; "
                    + "set smtp_tlsrpt_socket_name = run/tlsrpt/tlsrpt.sock");
            return false;
        }
        boolean chroot = postconf.masterEntry("smtp/unix")
                .map(f -> f.size() > 4 && !f.get(4).equals("n")).orElse(false);
        TlsrptSocket socket = TlsrptSocket.of(name, Path.of(queueDirectory), chroot);
        String where = socket.path() + (socket.insideChroot() ? " (smtp(8) runs chrooted: the "
                + "absolute name is inside $queue_directory; a relative name says so plainly)"
                : "");
        String collect = "tlsrpt-sender collect --datagram-socket " + socket.path();
        switch (socket.state()) {
            case MISSING -> add(Status.FAIL, what, "no socket at " + where + ": Postfix's "
                    + "TLSRPT datagrams are lost; run " + collect);
            case NOT_A_SOCKET -> add(Status.FAIL, what, where + " is not a socket; run "
                    + collect);
            case NOBODY_LISTENING -> add(Status.FAIL, what, "nothing receives on " + where
                    + ": Postfix's TLSRPT datagrams are lost; (re)start " + collect);
            case UNKNOWN -> add(Status.WARN, what, "cannot tell whether a collector receives "
                    + "on " + where + "; it should be " + collect);
            case LISTENING -> {
                String user = v.get().get(2);
                boolean writable;
                try {
                    writable = socket.writableBy(user);
                } catch (IOException e) {
                    writable = false;
                }
                if (writable) {
                    add(Status.OK, what, "Postfix's TLSRPT datagrams on " + where
                            + ", received by a collector");
                } else {
                    add(Status.FAIL, what, where + " is not writable by " + user + " (smtp(8)'s "
                            + "user): give the socket to a group " + user + " is in, mode 0660");
                }
            }
        }
        return false;
    }

    /**
     * Whether smtp(8), or one of Postfix's shared libraries it loads (Debian links libtlsrpt
     * into libpostfix-tls.so), names libtlsrpt among the libraries it needs.
     */
    private static boolean linksLibtlsrpt(Path smtp, String shlibDirectory) {
        List<Path> files = new ArrayList<>(List.of(smtp));
        if (!shlibDirectory.isEmpty() && !shlibDirectory.equals("no")) {
            try (var libs = Files.list(Path.of(shlibDirectory))) {
                libs.filter(f -> f.getFileName().toString().startsWith("libpostfix-"))
                        .forEach(files::add);
            } catch (IOException e) {
                return true; // cannot tell: do not claim it is missing
            }
        }
        byte[] want = "libtlsrpt.so".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (Path f : files) {
            try {
                byte[] b = Files.readAllBytes(f);
                outer:
                for (int i = 0; i + want.length <= b.length; i++) {
                    for (int j = 0; j < want.length; j++) {
                        if (b[i + j] != want[j]) {
                            continue outer;
                        }
                    }
                    return true;
                }
            } catch (IOException e) {
                return true;
            }
        }
        return false;
    }

    /** The daemon's own DNSSEC answers must validate, in the configured trust mode. */
    private void checkDaemonDnssec(DaemonConfig config, Name probe) {
        String mode = config.dane().dnssec().name().toLowerCase(Locale.ROOT);
        DnsClient dns;
        try {
            dns = PolicyEngine.daneDnsClient(config);
        } catch (ConfigException e) {
            add(Status.FAIL, "dane.dnssec", e.getMessage());
            return;
        }
        DnsResult r;
        try {
            r = dns.lookup(probe, Type.SOA).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            add(Status.FAIL, "dane.dnssec", mode + ": " + (e instanceof TimeoutException
                    ? "no answer within 30 s" : "lookup failed: " + ErrorWords.of(e)));
            return;
        }
        Dnssec d = Dnssec.of(r);
        if (d instanceof Dnssec.Secure) {
            add(Status.OK, "dane.dnssec", mode + ": " + probe + " SOA validates");
            return;
        }
        String why = d instanceof Dnssec.Bogus b ? "bogus (" + b.reason() + ")"
                : d instanceof Dnssec.Indeterminate i ? "no answer (" + i.reason() + ")"
                : "insecure";
        add(Status.FAIL, "dane.dnssec", mode + ": " + probe + " SOA is " + why + "; "
                + (mode.equals("validate") ? "dns.servers must pass DNSSEC records on (DO "
                + "bit) and the trust anchors must match" : "dns.servers must validate")
                + ": until then every DANE lookup defers mail");
    }
}
