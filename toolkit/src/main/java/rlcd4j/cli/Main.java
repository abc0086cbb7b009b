package rlcd4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import rlcd4j.util.BuildVersion;
import rlcd4j.util.RlcdException;

/** {@code ./rlcd COMMAND ...}: every stage of RLCD from the terminal. */
@Command(name = "rlcd", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
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
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        rlcd4j.engine.cpu.NativeThreads.tuneWaiting(); // before libtorch loads
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code; a bad-input error prints one line, not a stack trace. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof RlcdException) {
                line.getErr().println("rlcd: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cli.execute(args);
    }

    /** {@code rlcd --version}: the version Maven built, so the CLI, the kernel and the pom cannot disagree. */
    public static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"rlcd4j " + BuildVersion.get()};
        }
    }
}
