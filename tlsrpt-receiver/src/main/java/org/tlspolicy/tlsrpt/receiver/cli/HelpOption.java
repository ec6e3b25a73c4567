package org.tlspolicy.tlsrpt.receiver.cli;

import picocli.CommandLine.Option;

/** {@code -h}/{@code --help} for a subcommand: its usage, exit code 0. */
final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;
}
