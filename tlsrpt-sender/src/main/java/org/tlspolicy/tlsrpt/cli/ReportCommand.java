package org.tlspolicy.tlsrpt.cli;

import org.tlspolicy.tlsrpt.report.TlsReport;
import org.tlspolicy.tlsrpt.store.SessionCount;
import org.tlspolicy.tlsrpt.store.SessionStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-sender report}: prints the RFC 8460 JSON reports of one UTC day, one per line,
 * as {@code send} would build them; sends nothing. With no sessions it says so on standard
 * error, so that standard output stays JSON only.
 */
@Command(name = "report",
        description = "Prints the reports of one UTC day as JSON, one per line; sends nothing "
                + "(sending is 'send').")
final class ReportCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--day", description = "UTC day, YYYY-MM-DD (default: yesterday)")
    LocalDate day;

    @Option(names = "--domain", description = "Only this policy domain")
    String domain;

    /** What printing used to need; kept so that scripts written for it still run. */
    @Option(names = "--dry-run", hidden = true)
    boolean dryRun;

    @CommandLine.Mixin
    SubmitterOptions who;

    @Override
    public Integer call() throws Exception {
        LocalDate d = day != null ? day : LocalDate.now(ZoneOffset.UTC).minusDays(1);
        PrintWriter out = spec.commandLine().getOut();
        int printed = 0;
        try (SessionStore s = SessionStore.open(main.store)) {
            List<String> domains = domain != null ? List.of(domain) : s.domains(d);
            for (String dom : domains) {
                List<SessionCount> counts = s.counts(d, dom);
                if (counts.isEmpty()) {
                    continue;
                }
                byte[] json = TlsReport.build(who.submitter(), dom, d, counts).json();
                out.println(new String(json, StandardCharsets.UTF_8));
                printed++;
            }
        }
        out.flush();
        if (printed == 0) {
            spec.commandLine().getErr().println("tlsrpt-sender: no sessions recorded for " + d
                    + (domain != null ? " and " + domain : "") + " in " + main.store
                    + ": no report");
        }
        return 0;
    }
}
