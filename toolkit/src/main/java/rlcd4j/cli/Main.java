package rlcd4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import rlcd4j.RlcdException;

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
        rlcd4j.engine.NativeThreads.tuneWaiting(); // before libtorch loads
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
        private static final String RESOURCE = "/rlcd4j/version.properties";

        @Override
        public String[] getVersion() {
            return new String[] {"rlcd4j " + version()};
        }

        /** The project's version, from the resource Maven filters at build time (toolkit/pom.xml). */
        public static String version() {
            try (InputStream in = Main.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new RlcdException(RESOURCE + " is not on the class path: build rlcd4j with ./mvnw");
                }
                Properties properties = new Properties();
                properties.load(in);
                String version = properties.getProperty("version", "");
                if (version.isBlank() || version.contains("${")) {
                    throw new RlcdException(RESOURCE + ": expected the build's version, found '" + version
                            + "' (the resource was not filtered by Maven)");
                }
                return version.strip();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
