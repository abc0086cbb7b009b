package rlcd4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import rlcd4j.util.BuildVersion;
import rlcd4j.util.RlcdException;

/**
 * {@code ./rlcd COMMAND ...}: every stage of RLCD from the terminal, and the one place that turns failures into exit
 * codes (docs/cli.md): {@value #USAGE_ERROR} for a command line picocli rejects (with the usage), {@value #FAILED}
 * for any failure while running, reported on one line ({@code --debug} adds the stack trace).
 */
@Command(
        name = "rlcd",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = "RLCD (Reinforcement Learning from Contrastive Distillation) on the JVM.",
        subcommands = {
            GenerateCommand.class,
            ScoreCommand.class,
            SimulateCommand.class,
            DecodeCommand.class,
            EvalCommand.class,
            HumanSheetCommand.class,
            KernelCommand.class,
            ShellCommand.class,
            PretrainCommand.class,
            TrainPmCommand.class,
            SftCommand.class,
            DpoCommand.class,
            PpoCommand.class,
            DemoCommand.class,
            ServeCommand.class,
            OutlinePremisesCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {
    /** Exit code of a run that failed: bad data, a missing file, a model that does not load, a bug. */
    public static final int FAILED = 1;
    /** Exit code of a command line that does not parse (picocli's own code for invalid input). */
    public static final int USAGE_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    // Every subcommand inherits it; the handler reads it from the parse result, wherever on the line it was given.
    @Option(
            names = "--debug",
            scope = ScopeType.INHERIT,
            description = "On failure, print the stack trace after the one-line error.")
    boolean debug;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        rlcd4j.engine.cpu.NativeThreads.tuneWaiting(); // before libtorch loads
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code: 0, {@link #FAILED} or {@link #USAGE_ERROR}. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, line, parsed) -> fail(ex, line.getErr(), debug(parsed)));
        return cli.execute(args);
    }

    private static boolean debug(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) return true;
        }
        return false;
    }

    /**
     * One line for a failure: the message of the {@link RlcdException} behind it (the project's errors name the file,
     * line or option and what was expected), of an I/O error, or, for anything else, its type and message.
     */
    static int fail(Exception ex, PrintWriter err, boolean debug) {
        Throwable expected = ex;
        while (expected != null && !(expected instanceof RlcdException)) expected = expected.getCause();
        if (expected == null && (ex instanceof IOException || ex instanceof UncheckedIOException)) expected = ex;
        String line = expected != null ? String.valueOf(expected.getMessage()) : "unexpected " + ex;
        err.println("rlcd: " + line.replace('\n', ' ').strip()
                + (debug || expected != null ? "" : " (--debug prints the stack trace)"));
        if (debug) ex.printStackTrace(err);
        err.flush();
        return FAILED;
    }

    /** {@code rlcd --version}: the version Maven built, so the CLI, the kernel and the pom cannot disagree. */
    public static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"rlcd4j " + BuildVersion.get()};
        }
    }
}
