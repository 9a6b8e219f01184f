package dev.jvmm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code jvmm}: the top-level command; work happens in subcommands. */
@Command(
        name = "jvmm",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "A KVM virtual machine monitor for aarch64 guests, written in Java.",
        subcommands = {RunCommand.class, HostInfoCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit status:%n")
final class JvmmCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: try 'jvmm --help'");
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new JvmmCommand());
        cl.getCommandSpec().usageMessage().exitCodeList(ExitStatus.helpList());
        cl.getSubcommands().get("run").getCommandSpec().usageMessage().exitCodeList(ExitStatus.helpList());
        cl.setExecutionExceptionHandler(JvmmCommand::onException);
        cl.setParameterExceptionHandler(JvmmCommand::onUsageError);
        return cl;
    }

    /** Expected failures print one line, never a stack trace. */
    private static int onException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        if (e instanceof UserError u) {
            cl.getErr().println("jvmm: " + u.getMessage());
            return u.status();
        }
        cl.getErr().println("jvmm: internal error: " + e);
        e.printStackTrace(cl.getErr());
        return ExitStatus.FAILURE.code();
    }

    private static int onUsageError(CommandLine.ParameterException e, String[] args) {
        e.getCommandLine().getErr().println("jvmm: " + e.getMessage());
        return ExitStatus.USAGE.code();
    }
}
