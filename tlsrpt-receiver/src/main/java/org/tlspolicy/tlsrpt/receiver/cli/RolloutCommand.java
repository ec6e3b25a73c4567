package org.tlspolicy.tlsrpt.receiver.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.tlspolicy.smtp.Domain;
import org.tlspolicy.tlsrpt.receiver.ReceivedStore;
import org.tlspolicy.tlsrpt.rollout.Advice;
import org.tlspolicy.tlsrpt.rollout.AuditRun;
import org.tlspolicy.tlsrpt.rollout.AuditView;
import org.tlspolicy.tlsrpt.rollout.Rollout;
import org.tlspolicy.tlsrpt.rollout.RolloutText;
import org.tlspolicy.tlsrpt.summary.ReceivedSummary;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code tlsrpt-receiver rollout DOMAIN}: runs {@code tlspolicyd audit} on the domain, joins it
 * with the reports of the last {@value #LOOKBACK_DAYS} days, and says whether to stay in
 * testing, enforce, raise max_age, or roll back, with the reasons and the exact records.
 */
@Command(name = "rollout", description = "Say whether the domain's MTA-STS policy can go from "
        + "testing to enforce (or must go back), from the audit and the reports.")
final class RolloutCommand implements Callable<Integer> {

    /** Reports considered, at most this many days back. */
    static final int LOOKBACK_DAYS = 90;

    @CommandLine.Mixin
    HelpOption help;

    @CommandLine.ParentCommand
    Main main;

    @Parameters(paramLabel = "DOMAIN", description = "Your policy domain.")
    String domain;

    @Option(names = "--clean-days", paramLabel = "N", defaultValue = "7",
            description = "Days with reports and no failure on your side before enforcing "
                    + "(default: ${DEFAULT-VALUE}).")
    int cleanDays;

    @Option(names = "--reporters", paramLabel = "M", defaultValue = "2",
            description = "Reporting organizations those days must come from, at least "
                    + "(default: ${DEFAULT-VALUE}).")
    int reporters;

    @Option(names = "--tlspolicyd", paramLabel = "COMMAND", defaultValue = "tlspolicyd",
            description = "How to run tlspolicyd, words split at blanks (default: "
                    + "${DEFAULT-VALUE}).")
    String tlspolicyd;

    @Option(names = "--audit-json", paramLabel = "FILE", description = "Use this output of "
            + "tlspolicyd audit --json instead of running it.")
    Path auditJson;

    @Option(names = "--json", description = "Print the advice as one JSON object.")
    boolean json;

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
        Rollout.Settings settings;
        try {
            settings = new Rollout.Settings(cleanDays, reporters);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Instant now = Instant.now();
        AuditRun run = auditJson != null ? new AuditRun(Files.readString(auditJson), -1)
                : AuditRun.of(Arrays.asList(tlspolicyd.strip().split("\\s+")), name,
                Duration.ofMinutes(5));
        AuditView audit = AuditView.parse(run.json(), name);
        LocalDate since = LocalDate.now(ZoneOffset.UTC).minusDays(LOOKBACK_DAYS);
        Advice advice;
        try (ReceivedStore store = main.openStore()) {
            List<ReceivedSummary.Domain> summary = ReceivedSummary.of(store.connection(),
                    since, Optional.of(name));
            List<ReceivedSummary.Day> days = summary.isEmpty() ? List.of()
                    : summary.get(0).days();
            advice = Rollout.decide(audit, days, ReceivedSummary.failures(store.connection(),
                    since, name), settings, now);
            if (auditJson == null) {
                store.saveAudit(name, now, run.exitCode(), run.json(), audit.findings()
                        .stream().filter(f -> !f.level().equals("ok")).map(f -> f.level()
                                .toUpperCase(java.util.Locale.ROOT) + " " + f.check() + " "
                                + f.subject() + ": " + f.found()).collect(Collectors.joining(
                                "\n")));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
                g.useDefaultPrettyPrinter();
                g.writeStartObject();
                g.writeStringField("domain", advice.domain());
                g.writeStringField("action", advice.action().word());
                g.writeArrayFieldStart("reasons");
                for (String r : advice.reasons()) {
                    g.writeString(r);
                }
                g.writeEndArray();
                if (advice.change().isPresent()) {
                    Advice.Change c = advice.change().get();
                    g.writeObjectFieldStart("change");
                    g.writeStringField("id", c.id());
                    g.writeStringField("mode", c.mode());
                    g.writeNumberField("max_age", c.maxAge());
                    g.writeStringField("txt", c.txtRecord(advice.domain()));
                    g.writeStringField("policy", c.policyFile());
                    g.writeEndObject();
                }
                g.writeEndObject();
            }
            out.println();
        } else {
            RolloutText.print(advice, out);
        }
        out.flush();
        return 0;
    }
}
