package rlcd4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import rlcd4j.cli.KernelCommand;

/**
 * {@code rlcd kernel install}, then what breaks a kernel that points at its sources: {@code mvn clean}, a moved
 * checkout and an emptied Maven cache. The install is made from a copy of the build (the kernel and toolkit jars
 * under {@code checkout/<module>/target}, the dependencies under {@code m2/}, {@code datasets/}); the copy is then
 * moved, its target folders and the whole {@code m2/} deleted. The installed kernel, started by jupyter_client in an
 * unrelated folder, must still run a cell that loads the bundled sandbox model and generates with it, and the whole
 * tutorial copied into another unrelated folder. Skipped with a
 * message without /usr/bin/python3 and jupyter_client; with {@code RLCD4J_REQUIRE_JUPYTER=true} (or
 * {@code -Drlcd4j.requireJupyter=true}) it fails instead.
 */
class KernelInstallIT {
    static final String PYTHON = "/usr/bin/python3";
    static final String JUPYTER = "/usr/bin/jupyter";
    static final String KERNEL = "rlcd-install-it";
    static Path tmp;
    static Path jupyter;

    @BeforeAll
    static void setUp() throws Exception {
        String missing = !Files.isExecutable(Path.of(PYTHON))
                ? PYTHON + " not found"
                : run(
                                                List.of(PYTHON, "-c", "import jupyter_client"),
                                                Path.of("").toAbsolutePath(),
                                                Map.of(),
                                                120)
                                        .exit
                                != 0
                        ? "the Python module jupyter_client is missing"
                        : null;
        if (missing != null) {
            if (Boolean.parseBoolean(System.getProperty("rlcd4j.requireJupyter", "false"))
                    || "true".equalsIgnoreCase(System.getenv("RLCD4J_REQUIRE_JUPYTER"))) {
                fail("the kernel install test is required here (rlcd4j.requireJupyter) but " + missing);
            }
            String msg =
                    "SKIPPED the kernel install test: " + missing + ". Install it with: apt-get install jupyter-client";
            System.out.println("\n*** " + msg + "\n");
            Assumptions.abort(msg);
        }
        tmp = Files.createTempDirectory("rlcd-install-it");
        jupyter = tmp.resolve("jupyter");
        installThenRemoveTheSources();
    }

    static void installThenRemoveTheSources() throws Exception {
        Path target =
                Path.of(System.getProperty("rlcd4j.kernel.target", "target")).toAbsolutePath();
        Path repo = target.getParent().getParent();
        Path checkout = tmp.resolve("checkout");
        Path m2 = tmp.resolve("m2");
        List<String> cp = new ArrayList<>();
        for (String e : KernelCommand.classpathFromBuild(repo).split(File.pathSeparator)) {
            Path p = Path.of(e);
            // The project's own jars stay in the checkout's target folders; everything else comes from the "cache".
            Path dest = p.startsWith(repo) ? checkout.resolve(repo.relativize(p)) : m2.resolve(p.getFileName());
            Files.createDirectories(dest.getParent());
            link(p, dest);
            cp.add(dest.toString());
        }
        copyTree(repo.resolve("datasets"), checkout.resolve("datasets"));
        Files.copy(repo.resolve("pom.xml"), checkout.resolve("pom.xml"));

        int code = new CommandLine(new KernelCommand())
                .execute(
                        "install",
                        "--jupyter-path",
                        jupyter.toString(),
                        "--name",
                        KERNEL,
                        "--classpath",
                        String.join(File.pathSeparator, cp),
                        "--from",
                        checkout.toString(),
                        "--jvm-opt=-Xmx1g",
                        "--jvm-opt=-Dai.djl.pytorch.num_threads=1",
                        "--env",
                        "RLCD4J_INSTALL_IT=from-install");
        assertEquals(0, code, "rlcd kernel install");

        // mvn clean, then the checkout moves, then the Maven cache is emptied.
        for (String module : List.of("kernel", "toolkit"))
            deleteTree(checkout.resolve(module).resolve("target"));
        Path moved = tmp.resolve("moved-checkout");
        Files.move(checkout, moved);
        deleteTree(m2);
        String kernelJson =
                Files.readString(jupyter.resolve("kernels").resolve(KERNEL).resolve("kernel.json"));
        assertFalse(
                kernelJson.contains(checkout.toString())
                        || kernelJson.contains(m2.toString())
                        || kernelJson.contains(repo.toString()),
                kernelJson);
        Files.createDirectories(tmp.resolve("unrelated/notebooks")); // where the notebooks and cells run
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (tmp != null) deleteTree(tmp);
    }

    @Test
    void installedKernelSurvivesMvnCleanAMovedCheckoutAndAnEmptiedMavenCache() throws Exception {
        Path elsewhere = tmp.resolve("unrelated/notebooks");
        Path cell = tmp.resolve("cell.jsh");
        Files.writeString(
                cell,
                String.join(
                        "\n",
                        "Path model = Rlcd.sandboxModel();",
                        "System.out.println(\"MODEL \" + model);",
                        "try (CausalLM lm = Rlcd.load(model.toString(), CausalLM.Options.defaults())) {",
                        "    Generation g = lm.generate(\"Human: hello\\n\\nAssistant:\",",
                        "            GenerationConfig.simulation().withMaxNewTokens(4));",
                        "    System.out.println(\"GENERATED \" + g.ids().length + \" tokens\");",
                        "}",
                        "System.out.println(\"PAPER ROWS \" + Rlcd.paperResults().rowCount());",
                        "System.out.println(\"PAIRS \" + AttributeSpec.forTask(\"harmlessness\").pairs().size());",
                        "System.out.println(\"RUNS \" + Rlcd.runDir(\"tutorial\"));",
                        "System.out.println(\"ENV \" + System.getenv(\"RLCD4J_INSTALL_IT\"));",
                        ""),
                StandardCharsets.UTF_8);
        Result r = run(
                List.of(
                        PYTHON,
                        "-Xfrozen_modules=off",
                        testSources().resolve("python/run_cell.py").toString(),
                        cell.toString()),
                elsewhere,
                Map.of("JUPYTER_PATH", jupyter.toString(), "KERNEL_NAME", KERNEL),
                600);
        assertEquals(0, r.exit, r.output);
        Path home = jupyter.resolve("kernels").resolve(KERNEL).toRealPath();
        assertTrue(r.output.contains("MODEL " + home), r.output);
        assertTrue(r.output.contains("MODEL " + home) && r.output.contains("/datasets/sandbox/base-model"), r.output);
        assertTrue(r.output.matches("(?s).*GENERATED \\d+ tokens.*"), r.output);
        assertTrue(r.output.matches("(?s).*PAPER ROWS [1-9]\\d*.*"), r.output);
        assertTrue(r.output.contains("PAIRS 16"), r.output);
        assertTrue(r.output.contains("RUNS " + elsewhere.toRealPath().resolve("runs/tutorial")), r.output);
        assertTrue(r.output.contains("ENV from-install"), r.output);
    }

    /**
     * The whole tutorial, copied into an unrelated folder, executed by {@code jupyter nbconvert --execute} on the
     * installed kernel (after mvn clean, the move and the emptied cache): every cell runs without an error, its tables
     * and charts render, and its run folder lands beside the notebook.
     */
    @Test
    void theInstalledKernelRunsTheWholeTutorialCopiedIntoAnUnrelatedFolder() throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(Path.of(JUPYTER)), JUPYTER + " not found (apt-get install jupyter-nbconvert)");
        Path elsewhere = Files.createDirectories(tmp.resolve("unrelated/tutorial"));
        Path repo = Path.of(System.getProperty("rlcd4j.kernel.target", "target"))
                .toAbsolutePath()
                .getParent()
                .getParent();
        Files.copy(repo.resolve("notebooks/00-tutorial.ipynb"), elsewhere.resolve("00-tutorial.ipynb"));
        Path out = Files.createDirectories(tmp.resolve("tutorial-out"));
        long t0 = System.nanoTime();
        Result r = run(
                List.of(
                        JUPYTER,
                        "nbconvert",
                        "--to",
                        "notebook",
                        "--execute",
                        "--ExecutePreprocessor.kernel_name=" + KERNEL,
                        "--ExecutePreprocessor.timeout=900",
                        "--output-dir",
                        out.toString(),
                        "00-tutorial.ipynb"),
                elsewhere,
                Map.of("JUPYTER_PATH", jupyter.toString()),
                1200);
        System.out.printf("the tutorial executed on the installed kernel in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        assertEquals(0, r.exit, r.output);
        JsonObject nb = JsonParser.parseString(Files.readString(out.resolve("00-tutorial.ipynb")))
                .getAsJsonObject();
        NotebooksIT.Outputs o = NotebooksIT.outputs(nb); // fails on any error output
        assertTrue(
                o.html().stream().anyMatch(h -> h.contains("<table") && h.contains("first_position_rate")),
                "the win-rate table");
        assertTrue(
                o.png().size() >= 2, "PPO curves and win-rate chart: " + o.png().size());
        assertTrue(
                Files.isRegularFile(elsewhere.resolve("runs/tutorial/win-rates.done")),
                "the run folder beside the notebook");
    }

    /**
     * A notebook run three times through {@code jupyter nbconvert --execute} on the installed kernel: once, again
     * unchanged (nothing recomputed), then with one generation setting changed (that stage and the one that uses it
     * recomputed, the independent one kept, and the change named).
     */
    @Test
    void aNotebookRerunWithAChangedSettingRecomputesThatStageAndItsDependants() throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(Path.of(JUPYTER)), JUPYTER + " not found (apt-get install jupyter-nbconvert)");
        Path runDir = tmp.resolve("rerun-run");
        assertEquals(
                "COMPUTED [pairs, pm, baseline]",
                executeRerunNotebook(runDir, 96).get(0));
        assertEquals("COMPUTED []", executeRerunNotebook(runDir, 96).get(0));
        List<String> changed = executeRerunNotebook(runDir, 128);
        assertEquals("COMPUTED [pairs, pm]", changed.get(0));
        assertTrue(
                changed.get(1).contains("recomputing stage 'pairs'")
                        && changed.get(1).contains("'generation.maxNewTokens' 96 -> 128"),
                changed.get(1));
    }

    /** The notebook's "COMPUTED ..." line and its stderr. */
    private static List<String> executeRerunNotebook(Path runDir, int maxNewTokens) throws Exception {
        Path out = Files.createDirectories(tmp.resolve("nb-out"));
        Result r = run(
                List.of(
                        JUPYTER,
                        "nbconvert",
                        "--to",
                        "notebook",
                        "--execute",
                        "--ExecutePreprocessor.kernel_name=" + KERNEL,
                        "--ExecutePreprocessor.timeout=300",
                        "--output-dir",
                        out.toString(),
                        testSources().resolve("notebooks/rerun.ipynb").toString()),
                tmp.resolve("unrelated/notebooks"),
                Map.of(
                        "JUPYTER_PATH",
                        jupyter.toString(),
                        "RLCD4J_RERUN_DIR",
                        runDir.toString(),
                        "RLCD4J_MAX_NEW_TOKENS",
                        Integer.toString(maxNewTokens)),
                600);
        assertEquals(0, r.exit, r.output);
        StringBuilder stdout = new StringBuilder(), stderr = new StringBuilder();
        JsonObject nb = JsonParser.parseString(Files.readString(out.resolve("rerun.ipynb")))
                .getAsJsonObject();
        for (JsonElement cell : nb.getAsJsonArray("cells")) {
            for (JsonElement o : cell.getAsJsonObject().getAsJsonArray("outputs")) {
                JsonObject output = o.getAsJsonObject();
                if (!"stream".equals(output.get("output_type").getAsString())) continue;
                StringBuilder sb = "stderr".equals(output.get("name").getAsString()) ? stderr : stdout;
                JsonElement text = output.get("text");
                if (text.isJsonArray()) text.getAsJsonArray().forEach(t -> sb.append(t.getAsString()));
                else sb.append(text.getAsString());
            }
        }
        String computed = stdout.toString()
                .lines()
                .filter(l -> l.startsWith("COMPUTED"))
                .findFirst()
                .orElse(stdout.toString());
        return List.of(computed, stderr.toString());
    }

    private static Path testSources() {
        return Path.of(System.getProperty("rlcd4j.kernel.testSources", "src/test"))
                .toAbsolutePath();
    }

    /** A hard link where the file system allows it (the jars are large), else a copy. */
    private static void link(Path from, Path to) throws IOException {
        try {
            Files.createLink(to, from);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(from, to);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(dest);
                else Files.copy(p, dest);
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }

    record Result(int exit, String output) {}

    static Result run(List<String> cmd, Path dir, Map<String, String> env, long timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().remove("RLCD4J_RUNS"); // runs must land beside the notebook, not where CI points
        pb.environment().put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
        pb.environment().putAll(env);
        Path log = Files.createTempFile("rlcd-install-it-", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        System.out.println("$ " + String.join(" ", cmd) + "\n" + output);
        return new Result(
                done ? p.exitValue() : -1, done ? output : output + "\n[timed out after " + timeoutSeconds + " s]");
    }
}
