package org.tlspolicy.tlsrpt.receiver.cli;

import org.tlspolicy.smtp.Domain;
import org.tlspolicy.tlsrpt.rollout.FirstPolicy;
import org.tlspolicy.tlsrpt.rua.ReportDestination;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-receiver publish DOMAIN}: the records and policy file to start MTA-STS and
 * TLSRPT with, for the MX hosts the DNS names now.
 */
@Command(name = "publish", description = "Print the records and policy file to start MTA-STS "
        + "(mode testing) and TLSRPT for the domain's MX hosts.")
final class PublishCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @CommandLine.ParentCommand
    Main main;

    @Parameters(paramLabel = "DOMAIN", description = "Your domain.")
    String domain;

    @Option(names = "--rua", paramLabel = "URI", description = "Where reports go (default: "
            + "mailto:tlsrpt@DOMAIN).")
    String rua;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String name;
        try {
            name = Domain.parse(domain).name();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "not a domain: "
                    + domain);
        }
        String destination = rua != null ? rua : "mailto:tlsrpt@" + name;
        try {
            ReportDestination.parse(destination);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rua: "
                    + e.getMessage());
        }
        Lookup l = new Lookup(Name.fromString(name + "."), Type.MX);
        l.setResolver(main.resolver());
        l.setCache(null);
        Record[] records = l.run();
        if (records == null || records.length == 0) {
            spec.commandLine().getErr().println("tlsrpt-receiver: no MX records for " + name
                    + " (" + l.getErrorString() + "): MTA-STS names MX hosts");
            return Main.EXIT_FAILED;
        }
        List<MXRecord> mx = new ArrayList<>(Arrays.stream(records)
                .filter(r -> r instanceof MXRecord).map(r -> (MXRecord) r).toList());
        mx.sort(Comparator.comparingInt(MXRecord::getPriority));
        List<String> hosts = new ArrayList<>();
        for (MXRecord m : mx) {
            String h = m.getTarget().toString(true).toLowerCase(Locale.ROOT);
            try {
                h = Domain.parse(h).name(); // RFC 8461 §3.2: an mx value is a host name
            } catch (IllegalArgumentException e) {
                continue; // the null MX ("."), or a name no policy can hold
            }
            if (!hosts.contains(h)) {
                hosts.add(h);
            }
        }
        spec.commandLine().getOut().print(new FirstPolicy(name, hosts, destination,
                Instant.now()).text());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
