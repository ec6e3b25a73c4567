package org.tlspolicy.cli;

import org.tlspolicy.config.ConfigException;
import org.tlspolicy.config.DaemonConfig;
import org.tlspolicy.daemon.PolicyEngine;
import org.tlspolicy.dns.DnsClient;
import org.tlspolicy.dns.DnsResult;
import org.tlspolicy.dns.Dnssec;
import org.tlspolicy.postfix.Postconf;
import org.tlspolicy.socketmap.ListenAddress;
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
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code tlspolicyd doctor}: checks that Postfix and the daemon are set up so that its replies
 * work (shared README §2): Postfix asks the daemon, can use DANE replies (DNSSEC support and a
 * validating resolver it can trust), reads TLSRPT attributes only if its version does, and the
 * daemon's own DNSSEC answers validate. Each check prints one line, {@code ok}, {@code warn} or
 * {@code FAIL}, and what to change. Reads only; changes nothing.
 */
@Command(name = "doctor", description = "Check the Postfix and resolver setup for tlspolicyd.")
final class DoctorCommand implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "tlspolicyd's YAML configuration; without it the embedded defaults.")
    Path configFile;

    @Option(names = "--postfix-config", paramLabel = "DIR",
            description = "Postfix configuration directory (postconf -c); default: Postfix's.")
    Path postfixConfig;

    @Option(names = "--resolv-conf", paramLabel = "FILE",
            description = "The resolv.conf Postfix's smtp(8) reads; default: "
                    + "$queue_directory/etc/resolv.conf if smtp runs chrooted, else "
                    + "/etc/resolv.conf.")
    Path resolvConf;

    @Option(names = "--probe-name", paramLabel = "NAME", defaultValue = ".",
            description = "A DNSSEC-signed name whose SOA must validate (default: the root).")
    String probeName;

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
        Optional<DaemonConfig> loaded = Main.config(configFile, spec);
        if (loaded.isEmpty()) {
            return Main.EXIT_CONFIG;
        }
        DaemonConfig config = loaded.get();
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Name probe;
        try {
            probe = Name.fromString(probeName, Name.root);
        } catch (TextParseException e) {
            spec.commandLine().getErr().println("tlspolicyd: --probe-name: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        Optional<Postconf> postconf = Postconf.find(Optional.ofNullable(postfixConfig));
        Optional<List<String>> values = postconf.flatMap(p -> p.values("mail_version",
                "smtp_tls_policy_maps", "smtp_dns_support_level", "smtp_tls_security_level",
                "queue_directory"));
        if (values.isEmpty()) {
            add(Status.FAIL, "postfix", postconf.isEmpty() ? "postconf not found: is Postfix "
                    + "installed?" : "postconf cannot read the configuration"
                    + (postfixConfig == null ? "" : " in " + postfixConfig)
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
        }
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
            return "no answer (" + e.getMessage() + ")";
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
            add(Status.FAIL, "dane.dnssec", mode + ": " + e);
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
