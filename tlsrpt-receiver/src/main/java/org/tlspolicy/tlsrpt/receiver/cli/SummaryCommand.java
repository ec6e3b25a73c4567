package org.tlspolicy.tlsrpt.receiver.cli;

import org.tlspolicy.smtp.Domain;
import org.tlspolicy.tlsrpt.receiver.ReceivedStore;
import org.tlspolicy.tlsrpt.receiver.SummaryJson;
import org.tlspolicy.tlsrpt.receiver.SummaryText;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code tlsrpt-receiver summary [DOMAIN]}: what the reports say, per policy domain and UTC
 * day; {@code --json} for scripts, with RFC 8460's names for the totals.
 */
@Command(name = "summary", description = "What the reports received say, per policy domain "
        + "and day.")
final class SummaryCommand implements Callable<Integer> {

    @CommandLine.Mixin
    HelpOption help;

    @CommandLine.ParentCommand
    Main main;

    @Parameters(paramLabel = "DOMAIN", arity = "0..1", description = "Only this policy domain.")
    String domain;

    @Option(names = "--days", paramLabel = "N", defaultValue = "7",
            description = "The last N UTC days, today included (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--since", paramLabel = "YYYY-MM-DD", description = "From this UTC day on "
            + "(instead of --days).")
    String since;

    @Option(names = "--json", description = "One JSON object (docs/receiver.md).")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        LocalDate from;
        if (since != null) {
            try {
                from = LocalDate.parse(since);
            } catch (DateTimeParseException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--since: want "
                        + "YYYY-MM-DD, not '" + since + "'");
            }
        } else {
            if (days < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--days: 1 or "
                        + "more");
            }
            from = LocalDate.now(ZoneOffset.UTC).minusDays(days - 1L);
        }
        Optional<String> only = Optional.empty();
        if (domain != null) {
            try {
                only = Optional.of(Domain.parse(domain).name());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "not a domain: "
                        + domain);
            }
        }
        List<ReceivedSummary.Domain> summary;
        try (ReceivedStore store = main.openStore()) {
            summary = ReceivedSummary.of(store.connection(), from, only);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            SummaryJson.write(summary, from, out);
        } else {
            SummaryText.print(summary, from, out);
        }
        out.flush();
        return 0;
    }
}
