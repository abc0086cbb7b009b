package rlcd4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.Rlcd;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * {@code rlcd kernel install | uninstall | list}: the Jupyter kernel spec of the rlcd4j Java kernel. {@code install}
 * copies everything the kernel runs from (the class path's jars and class folders, and the checkout's
 * {@code datasets/}) into a versioned folder inside the kernel spec folder, and points kernel.json only there, so
 * the kernel survives {@code mvn clean}, a moved checkout and an emptied Maven cache.
 */
@Command(
        name = "kernel",
        description = "Jupyter kernel for Java with the toolkit built in.",
        mixinStandardHelpOptions = true,
        subcommands = {
            KernelCommand.Install.class,
            KernelCommand.Uninstall.class,
            KernelCommand.ListKernels.class,
            RenderTutorialCommand.class
        })
public final class KernelCommand implements Callable<Integer> {
    public static final String MAIN_CLASS = "rlcd4j.kernel.RlcdKernel";
    /**
     * Every JVM the project starts is offline for DJL and headless (charts render without a display), and opts in to
     * MKL's feature-chosen kernels on CPUs not made by Intel ({@link rlcd4j.engine.cpu.MklCpuPath}).
     */
    public static final List<String> BASE_JVM_FLAGS = List.of(
            "-Dai.djl.offline=true", "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8", "-Drlcd4j.mklIntelPath=true");
    /**
     * The kernel's collector: the parallel (throughput) collector. Every cell is compiled by javac inside the kernel,
     * and on 2 cores a trivial cell's JShell evaluation was faster with it than with G1 (docs/perf/kernel.md); the
     * toolkit's big data lives in native memory, so heap pauses stay short.
     */
    public static final List<String> KERNEL_JVM_FLAGS = List.of("-XX:+UseParallelGC");
    /** Prefix of the install folder inside the kernel spec folder: {@code rlcd4j-<version>}. */
    static final String INSTALL_PREFIX = "rlcd4j-";

    @Override
    public Integer call() {
        System.err.println("usage: rlcd kernel install|uninstall|list|render-tutorial [--user | --sys-prefix"
                + " | --prefix DIR | --jupyter-path DIR] [--name rlcd-java]");
        return 2;
    }

    /** Where kernel specs go, as ipykernel's options say; --user when none is given. */
    static final class Target {
        @Option(names = "--user", description = "Per-user Jupyter data dir (~/.local/share/jupyter).")
        boolean user;

        @Option(
                names = "--sys-prefix",
                description = "The sys.prefix of the Python that runs 'jupyter' (a venv or conda env).")
        boolean sysPrefix;

        @Option(names = "--prefix", paramLabel = "DIR", description = "DIR/share/jupyter/kernels/NAME.")
        Path prefix;

        @Option(
                names = "--jupyter-path",
                paramLabel = "DIR",
                description = "DIR/kernels/NAME; use with JUPYTER_PATH=DIR.")
        Path jupyterPath;

        Path kernelsDir() {
            if (jupyterPath != null) return jupyterPath.toAbsolutePath().resolve("kernels");
            if (prefix != null) return prefix.toAbsolutePath().resolve("share/jupyter/kernels");
            if (sysPrefix) return Path.of(jupyterSysPrefix()).resolve("share/jupyter/kernels");
            return userDataDir().resolve("kernels");
        }
    }

    static void checkName(String name) {
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new RlcdException("--name: '" + name + "' may only contain letters, digits, '.', '_' and '-'");
        }
    }

    @Command(
            name = "install",
            mixinStandardHelpOptions = true,
            description = "Copy the kernel, its libraries and the bundled data into the kernel spec folder and write"
                    + " kernel.json (default: --user).")
    public static final class Install implements Callable<Integer> {
        @ArgGroup(exclusive = true)
        Target target = new Target();

        @Option(names = "--name", defaultValue = "rlcd-java", description = "Kernel name (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(
                names = "--display-name",
                defaultValue = "rlcd4j (Java)",
                description = "Name shown in Jupyter (default: ${DEFAULT-VALUE}).")
        String displayName;

        @Option(
                names = "--jvm-opt",
                paramLabel = "FLAG",
                description = "Extra JVM flag for the kernel, repeatable (e.g. --jvm-opt=-Xmx8g).")
        List<String> jvmOpts = new ArrayList<>();

        @Option(
                names = "--env",
                paramLabel = "K=V",
                description = "Environment variable for the kernel, repeatable (e.g. --env RLCD4J_SCALE=smoke).")
        Map<String, String> env = new LinkedHashMap<>();

        @Option(
                names = "--classpath",
                paramLabel = "CP",
                description = "Class path to copy (default: the built kernel module and its dependencies).")
        String classpath;

        @Option(
                names = "--from",
                paramLabel = "DIR",
                description = "The checkout whose datasets/ is copied (default: this checkout).")
        Path from;

        @Override
        public Integer call() throws IOException {
            checkName(name);
            for (String key : env.keySet()) {
                if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw new RlcdException("--env: '" + key + "' is not a variable name");
                }
            }
            Path checkout = from != null ? from.toAbsolutePath() : sourceCheckout();
            Path datasets = checkout.resolve("datasets");
            if (!Files.isDirectory(datasets)) {
                throw new RlcdException(datasets + ": not found; pass --from <rlcd4j checkout>");
            }
            List<Path> entries = withoutShadowedJars(classpathEntries(resolveClasspath()));
            Path specDir = target.kernelsDir().resolve(name);
            Installation inst = copy(specDir, version(entries, checkout), entries, datasets, checkout);
            write(specDir, kernelJson(inst));
            System.out.println("Installed kernel spec '" + name + "' in " + specDir + " (" + inst.libs.size()
                    + " class path entries and datasets/ copied to " + inst.home + ")");
            if (target.jupyterPath != null) {
                System.out.println("Jupyter finds it with JUPYTER_PATH=" + target.jupyterPath.toAbsolutePath());
            }
            return 0;
        }

        /** Option, then the launcher's system property, then the kernel module's build output. */
        String resolveClasspath() {
            if (classpath != null && !classpath.isBlank()) return classpath;
            String fromLauncher = System.getProperty("rlcd4j.kernel.classpath");
            if (fromLauncher != null && !fromLauncher.isBlank()) return fromLauncher;
            return classpathFromBuild(findRepoRoot());
        }

        String kernelJson(Installation inst) {
            List<String> argv = new ArrayList<>();
            argv.add(javaExecutable());
            argv.addAll(BASE_JVM_FLAGS);
            argv.addAll(KERNEL_JVM_FLAGS);
            argv.add("-Drlcd4j.home=" + inst.home);
            argv.addAll(jvmOpts);
            argv.add("-cp");
            argv.add(inst.libs.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator)));
            argv.add(MAIN_CLASS);
            argv.add("{connection_file}");
            Map<String, String> vars = new LinkedHashMap<>();
            vars.put("GOMP_SPINCOUNT", "30000"); // as the rlcd launcher: see its comment
            vars.putAll(env);
            StringBuilder sb = new StringBuilder("{\n  \"argv\": [");
            for (int i = 0; i < argv.size(); i++)
                sb.append(i == 0 ? "\n    " : ",\n    ").append(quote(argv.get(i)));
            sb.append("\n  ],\n  \"display_name\": ")
                    .append(quote(displayName))
                    .append(",\n  \"language\": \"java\",\n  \"interrupt_mode\": \"message\",\n  \"env\": {");
            int i = 0;
            for (Map.Entry<String, String> e : vars.entrySet()) {
                sb.append(i++ == 0 ? "" : ", ")
                        .append(quote(e.getKey()))
                        .append(": ")
                        .append(quote(e.getValue()));
            }
            sb.append("},\n  \"metadata\": {\"debugger\": false}\n}\n");
            return sb.toString();
        }

        private static void write(Path dir, String json) throws IOException {
            Files.createDirectories(dir);
            Path tmp = dir.resolve("kernel.json.tmp");
            Files.writeString(tmp, json, StandardCharsets.UTF_8);
            Files.move(
                    tmp,
                    dir.resolve("kernel.json"),
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** The install folder and the class path entries copied into it, in class path order. */
    record Installation(Path home, List<Path> libs) {}

    /**
     * Copies the class path and datasets into {@code specDir/rlcd4j-<version>}: first into a hidden sibling, which
     * then replaces the folder of an earlier install, so a failed copy leaves the earlier install as it was.
     */
    static Installation copy(Path specDir, String version, List<Path> entries, Path datasets, Path checkout)
            throws IOException {
        Path home = specDir.resolve(INSTALL_PREFIX + version);
        Path staging = specDir.resolve("." + INSTALL_PREFIX + version + ".partial");
        deleteTree(staging);
        Files.createDirectories(staging.resolve("lib"));
        List<Path> libs = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (Path entry : entries) {
            String fileName = libName(entry, used);
            Path dest = staging.resolve("lib").resolve(fileName);
            if (Files.isDirectory(entry)) copyTree(entry, dest);
            else Files.copy(entry, dest, StandardCopyOption.COPY_ATTRIBUTES);
            libs.add(home.resolve("lib").resolve(fileName));
        }
        copyTree(datasets, staging.resolve("datasets"));
        JsonObject info = new JsonObject();
        info.addProperty("version", version);
        info.addProperty("installed", Instant.now().toString());
        info.addProperty("from", checkout.toString());
        Files.writeString(staging.resolve(Rlcd.INSTALL_MARKER), Json.write(info) + "\n", StandardCharsets.UTF_8);
        // Earlier versions' folders go too: this command owns every rlcd4j-* folder in the spec folder.
        try (Stream<Path> old = Files.list(specDir)) {
            for (Path p : old.filter(p -> p.getFileName().toString().startsWith(INSTALL_PREFIX))
                    .toList()) {
                deleteTree(p);
            }
        }
        Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
        return new Installation(home, libs);
    }

    /**
     * The file name of a class path entry in lib/: a jar keeps its name; a class folder such as
     * {@code toolkit/target/classes} becomes {@code toolkit-classes}. A name already taken gets a number.
     */
    static String libName(Path entry, Set<String> used) {
        String base = entry.getFileName().toString();
        Path parent = entry.getParent();
        if (Files.isDirectory(entry)
                && parent != null
                && parent.getFileName() != null
                && parent.getFileName().toString().equals("target")
                && parent.getParent() != null
                && parent.getParent().getFileName() != null) {
            base = parent.getParent().getFileName() + "-" + base;
        }
        String name = base;
        for (int n = 2; !used.add(name); n++) name = n + "-" + base;
        return name;
    }

    /** The class path's entries; a missing entry is an error that names it (the build is incomplete). */
    static List<Path> classpathEntries(String cp) {
        List<Path> out = new ArrayList<>();
        for (String s : cp.split(File.pathSeparator)) {
            if (s.isBlank()) continue;
            Path p = Path.of(s).toAbsolutePath();
            if (!Files.exists(p)) {
                throw new RlcdException(
                        "class path entry " + p + ": not found; build first with: mvn -B -DskipTests package");
            }
            out.add(p);
        }
        if (out.isEmpty()) throw new RlcdException("--classpath: empty");
        return out;
    }

    /**
     * The entries less each jar that sits beside an earlier {@code classes} folder of the same {@code target} folder:
     * the launcher's class path puts {@code toolkit/target/classes} before the toolkit jar, which then only shadows
     * it, and both hold the 15 MB of datasets.
     */
    static List<Path> withoutShadowedJars(List<Path> entries) {
        Set<Path> classesParents = new HashSet<>();
        List<Path> out = new ArrayList<>();
        for (Path p : entries) {
            boolean classes = Files.isDirectory(p) && p.getFileName().toString().equals("classes");
            if (classes) classesParents.add(p.getParent());
            else if (p.getFileName().toString().endsWith(".jar") && classesParents.contains(p.getParent())) continue;
            out.add(p);
        }
        return out;
    }

    /** The project version: from the kernel or toolkit jar's name, else the checkout's pom.xml, else "dev". */
    static String version(List<Path> entries, Path checkout) {
        Pattern jar = Pattern.compile("rlcd4j-(?:kernel|toolkit)-(.+)\\.jar");
        for (Path p : entries) {
            Matcher m = jar.matcher(p.getFileName().toString());
            if (m.matches()) return m.group(1);
        }
        Path pom = checkout.resolve("pom.xml");
        try {
            if (Files.isRegularFile(pom)) {
                Matcher m = Pattern.compile("<artifactId>rlcd4j-parent</artifactId>\\s*<version>([^<]+)</version>")
                        .matcher(Files.readString(pom, StandardCharsets.UTF_8));
                if (m.find()) return m.group(1).strip();
            }
        } catch (IOException e) {
            throw new RlcdException(pom + ": cannot read: " + e.getMessage(), e);
        }
        return "dev";
    }

    /** The checkout to copy datasets/ from: the launcher's {@code rlcd4j.home} when it is a checkout, else found. */
    static Path sourceCheckout() {
        String home = System.getProperty("rlcd4j.home");
        if (home != null && Files.isRegularFile(Path.of(home, "kernel", "pom.xml"))) {
            return Path.of(home).toAbsolutePath();
        }
        return findRepoRoot();
    }

    @Command(
            name = "uninstall",
            mixinStandardHelpOptions = true,
            description = "Remove an rlcd4j kernel spec and its install folder (default: --user).")
    public static final class Uninstall implements Callable<Integer> {
        @ArgGroup(exclusive = true)
        Target target = new Target();

        @Option(names = "--name", defaultValue = "rlcd-java", description = "Kernel name (default: ${DEFAULT-VALUE}).")
        String name;

        @Override
        public Integer call() throws IOException {
            checkName(name);
            Path dir = target.kernelsDir().resolve(name);
            Path json = dir.resolve("kernel.json");
            if (!Files.isRegularFile(json)) {
                throw new RlcdException(json + ": not found; 'rlcd kernel list' shows the installed kernels");
            }
            // Only a spec this command wrote: never delete another kernel's folder.
            if (!Files.readString(json, StandardCharsets.UTF_8).contains(MAIN_CLASS)) {
                throw new RlcdException(
                        json + ": not an rlcd4j kernel (its argv does not run " + MAIN_CLASS + "); left as it is");
            }
            deleteTree(dir);
            System.out.println("Removed kernel spec '" + name + "' from " + dir);
            return 0;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List the rlcd4j kernel specs Jupyter can find, and whether each can start.")
    public static final class ListKernels implements Callable<Integer> {
        @Option(names = "--jupyter-path", paramLabel = "DIR", description = "Also look in DIR/kernels (repeatable).")
        List<Path> jupyterPaths = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            int found = 0;
            for (Path kernels : searchPath(jupyterPaths)) {
                if (!Files.isDirectory(kernels)) continue;
                List<Path> specs;
                try (Stream<Path> s = Files.list(kernels)) {
                    specs = s.filter(d -> Files.isRegularFile(d.resolve("kernel.json")))
                            .sorted()
                            .toList();
                }
                for (Path spec : specs) {
                    String json = Files.readString(spec.resolve("kernel.json"), StandardCharsets.UTF_8);
                    if (!json.contains(MAIN_CLASS)) continue;
                    found++;
                    System.out.println(spec.getFileName() + "  " + spec + "  " + describe(spec, json));
                }
            }
            if (found == 0) System.out.println("no rlcd4j kernel installed; install one with: ./rlcd kernel install");
            return 0;
        }
    }

    /** Version and health of a spec: "ok", or what is missing (e.g. a build folder that mvn clean removed). */
    static String describe(Path spec, String json) {
        JsonArray argv;
        try {
            argv = Json.parseObject(json).getAsJsonArray("argv");
        } catch (RuntimeException e) {
            return "BROKEN: kernel.json: " + e.getMessage();
        }
        String home = null;
        List<String> missing = new ArrayList<>();
        for (int i = 0; argv != null && i < argv.size(); i++) {
            String a = argv.get(i).getAsString();
            if (a.startsWith("-Drlcd4j.home=")) home = a.substring("-Drlcd4j.home=".length());
            if ((a.equals("-cp") || a.equals("-classpath")) && i + 1 < argv.size()) {
                for (String e : argv.get(i + 1).getAsString().split(File.pathSeparator)) {
                    if (!e.isBlank() && !Files.exists(Path.of(e))) missing.add(e);
                }
            }
        }
        String version = home == null
                ? "(not self-contained: installed before rlcd4j copied its files)"
                : Path.of(home).getFileName().toString();
        if (home != null && !Files.isRegularFile(Path.of(home, Rlcd.INSTALL_MARKER))) missing.add(home);
        if (missing.isEmpty()) return version + "  ok";
        return version + "  BROKEN: " + missing.size() + " missing, e.g. " + missing.get(0)
                + "; reinstall with ./rlcd kernel install --name " + spec.getFileName();
    }

    /**
     * Jupyter's data path, in its order: the given folders, JUPYTER_PATH, the user data dir, then the system ones.
     * The sys.prefix of a virtual environment is left out (it needs Python); name it with --jupyter-path.
     */
    static List<Path> searchPath(List<Path> extra) {
        Set<Path> dirs = new LinkedHashSet<>();
        for (Path p : extra) dirs.add(p.toAbsolutePath());
        String env = System.getenv("JUPYTER_PATH");
        if (env != null) {
            for (String s : env.split(File.pathSeparator))
                if (!s.isBlank()) dirs.add(Path.of(s).toAbsolutePath());
        }
        dirs.add(userDataDir());
        dirs.add(Path.of("/usr/local/share/jupyter"));
        dirs.add(Path.of("/usr/share/jupyter"));
        List<Path> out = new ArrayList<>();
        for (Path d : dirs) out.add(d.resolve("kernels"));
        return out;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(dest);
                else Files.copy(p, dest, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
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
                    .findFirst()
                    .orElse(target.resolve("classes"));
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
            starts.add(Path.of(KernelCommand.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI()));
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
        if (jupyter == null)
            throw new RlcdException("--sys-prefix: no 'jupyter' on PATH; use --prefix DIR or --jupyter-path DIR");
        try {
            String first = Files.readAllLines(jupyter, StandardCharsets.UTF_8).stream()
                    .findFirst()
                    .orElse("");
            if (!first.startsWith("#!")) throw new RlcdException(jupyter + ": not a Python script; use --prefix DIR");
            List<String> cmd =
                    new ArrayList<>(List.of(first.substring(2).strip().split("\\s+")));
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
