package rlcd4j.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import rlcd4j.StartupImports;
import rlcd4j.util.RlcdException;

/**
 * {@code rlcd shell}: JShell with the toolkit on its class path and its packages imported, for one-line ablations
 * at the prompt. Extra arguments go to jshell (e.g. {@code rlcd shell -- --feedback concise}).
 */
@Command(
        name = "shell",
        mixinStandardHelpOptions = true,
        description = "Start JShell with the toolkit on the class path and its packages imported.")
public final class ShellCommand implements Callable<Integer> {
    @Parameters(paramLabel = "JSHELL_ARG", description = "Passed to jshell as they are.")
    List<String> jshellArgs = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path startup = writeStartup();
        try {
            Process p = new ProcessBuilder(command(startup)).inheritIO().start();
            return p.waitFor();
        } finally {
            Files.deleteIfExists(startup);
        }
    }

    /** The jshell command line: class path, JVM flags for the evaluation JVM, default + toolkit start-up. */
    public List<String> command(Path startupScript) {
        List<String> cmd = new ArrayList<>();
        cmd.add(jshellExecutable());
        cmd.add("--class-path");
        cmd.add(classpath());
        for (String flag : KernelCommand.BASE_JVM_FLAGS) cmd.add("-R" + flag);
        cmd.addAll(List.of("--startup", "DEFAULT", "--startup", startupScript.toString()));
        cmd.addAll(jshellArgs);
        return cmd;
    }

    /** A temporary start-up script of the imports that exist on this class path. */
    public Path writeStartup() throws IOException {
        Path f = Files.createTempFile("rlcd-shell-", ".jsh");
        List<String> lines = new ArrayList<>(StartupImports.importLines(ShellCommand.class.getClassLoader()));
        lines.add("System.out.println(\"rlcd4j toolkit on the class path; packages imported. /exit to leave.\");");
        Files.write(f, lines, StandardCharsets.UTF_8);
        return f;
    }

    /** The launcher's {@code rlcd4j.classpath} if set, else this JVM's class path (which holds the toolkit). */
    static String classpath() {
        String cp = System.getProperty("rlcd4j.classpath");
        if (cp == null || cp.isBlank()) cp = System.getProperty("java.class.path");
        List<String> entries = new ArrayList<>();
        for (String e : cp.split(File.pathSeparator))
            if (!e.isBlank()) entries.add(Path.of(e).toAbsolutePath().toString());
        return String.join(File.pathSeparator, entries);
    }

    static String jshellExecutable() {
        Path jshell = Path.of(
                System.getProperty("java.home"),
                "bin",
                System.getProperty("os.name", "").toLowerCase().startsWith("windows") ? "jshell.exe" : "jshell");
        if (!Files.isExecutable(jshell)) {
            throw new RlcdException(jshell + ": not found; 'rlcd shell' needs a JDK (with jshell), not a JRE");
        }
        return jshell.toString();
    }
}
