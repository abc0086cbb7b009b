package rlcd4j.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.RlcdException;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code rlcd kernel install}: writes the Jupyter kernel spec of the rlcd4j Java kernel, so that
 * {@code jupyter kernelspec list} shows it and notebooks can pick "rlcd4j (Java)".
 */
@Command(name = "kernel", description = "Jupyter kernel for Java with the toolkit built in.",
        mixinStandardHelpOptions = true, subcommands = KernelCommand.Install.class)
public final class KernelCommand implements Callable<Integer> {
    public static final String MAIN_CLASS = "rlcd4j.kernel.RlcdKernel";
    /**
     * Every JVM the project starts is offline for DJL and headless (charts render without a display), and opts in to
     * MKL's feature-chosen kernels on CPUs not made by Intel ({@link rlcd4j.engine.MklCpuPath}).
     */
    public static final List<String> BASE_JVM_FLAGS = List.of("-Dai.djl.offline=true", "-Djava.awt.headless=true",
            "-Dfile.encoding=UTF-8", "-Drlcd4j.mklIntelPath=true");
    /**
     * The kernel's collector: the parallel (throughput) collector. Every cell is compiled by javac inside the kernel,
     * and with G1 on 2 cores a trivial cell's JShell evaluation took 45-52 ms against 34-41 ms with this one
     * (docs/perf/kernel.md); the toolkit's big data lives in native memory, so heap pauses stay short.
     */
    public static final List<String> KERNEL_JVM_FLAGS = List.of("-XX:+UseParallelGC");

    @Override
    public Integer call() {
        System.err.println("usage: rlcd kernel install [--user | --sys-prefix | --prefix DIR | --jupyter-path DIR] [--name rlcd-java]");
        return 2;
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = "Write kernel.json for the rlcd4j Java kernel (default: --user).")
    public static final class Install implements Callable<Integer> {
        static final class Target {
            @Option(names = "--user", description = "Per-user Jupyter data dir (~/.local/share/jupyter).")
            boolean user;
            @Option(names = "--sys-prefix", description = "The sys.prefix of the Python that runs 'jupyter' (a venv or conda env).")
            boolean sysPrefix;
            @Option(names = "--prefix", paramLabel = "DIR", description = "DIR/share/jupyter/kernels/NAME.")
            Path prefix;
            @Option(names = "--jupyter-path", paramLabel = "DIR", description = "DIR/kernels/NAME; use with JUPYTER_PATH=DIR.")
            Path jupyterPath;
        }

        @ArgGroup(exclusive = true)
        Target target = new Target();

        @Option(names = "--name", defaultValue = "rlcd-java", description = "Kernel name (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--display-name", defaultValue = "rlcd4j (Java)", description = "Name shown in Jupyter (default: ${DEFAULT-VALUE}).")
        String displayName;

        @Option(names = "--jvm-opt", paramLabel = "FLAG", description = "Extra JVM flag for the kernel, repeatable (e.g. --jvm-opt=-Xmx8g).")
        List<String> jvmOpts = new ArrayList<>();

        @Option(names = "--classpath", paramLabel = "CP", description = "Kernel class path (default: the built kernel module).")
        String classpath;

        @Override
        public Integer call() throws IOException {
            if (!name.matches("[A-Za-z0-9._-]+")) {
                throw new RlcdException("--name: '" + name + "' may only contain letters, digits, '.', '_' and '-'");
            }
            Path dir = kernelsDir().resolve(name);
            Path json = write(dir, kernelJson(resolveClasspath()));
            System.out.println("Installed kernel spec '" + name + "' in " + dir);
            if (target.jupyterPath != null) {
                System.out.println("Jupyter finds it with JUPYTER_PATH=" + target.jupyterPath.toAbsolutePath());
            }
            return json == null ? 1 : 0;
        }

        private Path kernelsDir() {
            if (target.jupyterPath != null) return target.jupyterPath.toAbsolutePath().resolve("kernels");
            if (target.prefix != null) return target.prefix.toAbsolutePath().resolve("share/jupyter/kernels");
            if (target.sysPrefix) return Path.of(jupyterSysPrefix()).resolve("share/jupyter/kernels");
            return userDataDir().resolve("kernels");
        }

        String kernelJson(String cp) {
            List<String> argv = new ArrayList<>();
            argv.add(javaExecutable());
            argv.addAll(BASE_JVM_FLAGS);
            argv.addAll(KERNEL_JVM_FLAGS);
            argv.addAll(jvmOpts);
            argv.add("-cp");
            argv.add(cp);
            argv.add(MAIN_CLASS);
            argv.add("{connection_file}");
            StringBuilder sb = new StringBuilder("{\n  \"argv\": [");
            for (int i = 0; i < argv.size(); i++) sb.append(i == 0 ? "\n    " : ",\n    ").append(quote(argv.get(i)));
            sb.append("\n  ],\n  \"display_name\": ").append(quote(displayName))
                    .append(",\n  \"language\": \"java\",\n  \"interrupt_mode\": \"message\",\n  \"env\": {\"GOMP_SPINCOUNT\": \"30000\"},\n")
                    .append("  \"metadata\": {\"debugger\": false}\n}\n");
            return sb.toString();
        }

        private static Path write(Path dir, String json) throws IOException {
            Files.createDirectories(dir);
            Path file = dir.resolve("kernel.json");
            Files.writeString(file, json, StandardCharsets.UTF_8);
            return file;
        }

        /** Option, then the launcher's system property, then the kernel module's build output. */
        String resolveClasspath() {
            if (classpath != null && !classpath.isBlank()) return classpath;
            String fromLauncher = System.getProperty("rlcd4j.kernel.classpath");
            if (fromLauncher != null && !fromLauncher.isBlank()) return fromLauncher;
            return classpathFromBuild(findRepoRoot());
        }
    }

    /** The kernel jar (or classes) plus {@code kernel/target/classpath.txt}, written by {@code mvn package}. */
    public static String classpathFromBuild(Path root) {
        Path target = root.resolve("kernel/target");
        Path cpFile = target.resolve("classpath.txt");
        if (!Files.isRegularFile(cpFile)) {
            throw new RlcdException(cpFile + ": not found; build the kernel first with: mvn -B -DskipTests package");
        }
        Path kernelJar;
        try (Stream<Path> files = Files.list(target)) {
            kernelJar = files.filter(p -> p.getFileName().toString().matches("rlcd4j-kernel-.*\\.jar")
                            && !p.getFileName().toString().matches(".*-(sources|javadoc|tests)\\.jar"))
                    .findFirst().orElse(target.resolve("classes"));
        } catch (IOException e) {
            throw new RlcdException(target + ": cannot list: " + e.getMessage(), e);
        }
        try {
            String deps = Files.readString(cpFile, StandardCharsets.UTF_8).strip();
            return kernelJar.toAbsolutePath() + (deps.isEmpty() ? "" : File.pathSeparator + deps);
        } catch (IOException e) {
            throw new RlcdException(cpFile + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** {@code rlcd4j.root}, else the nearest directory up from here that holds kernel/pom.xml. */
    static Path findRepoRoot() {
        String prop = System.getProperty("rlcd4j.root");
        if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath();
        List<Path> starts = new ArrayList<>();
        starts.add(Path.of("").toAbsolutePath());
        try {
            starts.add(Path.of(KernelCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (Exception ignored) {
            // no code source (unusual class loader): the working directory is enough
        }
        for (Path start : starts) {
            for (Path p = start; p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("kernel/pom.xml"))) return p;
            }
        }
        throw new RlcdException("cannot find the rlcd4j checkout (a directory with kernel/pom.xml) from "
                + Path.of("").toAbsolutePath() + "; pass --classpath or -Drlcd4j.root=DIR");
    }

    static String javaExecutable() {
        Path java = Path.of(System.getProperty("java.home"), "bin", isWindows() ? "java.exe" : "java");
        return Files.isExecutable(java) ? java.toString() : "java";
    }

    static Path userDataDir() {
        String env = System.getenv("JUPYTER_DATA_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        String home = System.getProperty("user.home");
        String os = System.getProperty("os.name", "").toLowerCase();
        if (os.contains("mac")) return Path.of(home, "Library", "Jupyter");
        if (isWindows()) return Path.of(System.getenv().getOrDefault("APPDATA", home), "jupyter");
        String xdg = System.getenv("XDG_DATA_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(home, ".local", "share")).resolve("jupyter");
    }

    /** sys.prefix of the Python that runs 'jupyter' on PATH, read by running that Python. */
    static String jupyterSysPrefix() {
        Path jupyter = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "jupyter");
            if (Files.isExecutable(p)) {
                jupyter = p;
                break;
            }
        }
        if (jupyter == null) throw new RlcdException("--sys-prefix: no 'jupyter' on PATH; use --prefix DIR or --jupyter-path DIR");
        try {
            String first = Files.readAllLines(jupyter, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            if (!first.startsWith("#!")) throw new RlcdException(jupyter + ": not a Python script; use --prefix DIR");
            List<String> cmd = new ArrayList<>(List.of(first.substring(2).strip().split("\\s+")));
            cmd.addAll(List.of("-c", "import sys; print(sys.prefix)"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0 || out.isEmpty()) {
                throw new RlcdException("--sys-prefix: could not ask " + cmd.get(0) + " for sys.prefix: " + out);
            }
            return out.lines().reduce((a, b) -> b).orElse(out);
        } catch (IOException e) {
            throw new RlcdException("--sys-prefix: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RlcdException("--sys-prefix: interrupted");
        }
    }

    private static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase().startsWith("windows");
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
