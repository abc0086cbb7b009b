package rlcd4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import rlcd4j.cli.KernelCommand;

/**
 * Executes the project's notebooks (issue 7: the tutorial; issue 8: the three reproduction notebooks at smoke scale)
 * with {@code jupyter nbconvert --execute} on the hermetic kernel spec, from the repository root, and checks that their
 * outputs hold HTML tables, PNG charts and the final table. Time limits: the tutorial within 10 minutes, the three
 * reproduction notebooks together within 15 (2 cores). Stages are written under {@code target/nb-runs}
 * ({@code RLCD4J_RUNS}), fresh for each run. Skipped or required exactly as {@link JupyterClientsIT}.
 */
class NotebooksIT {
    /**
     * A kernel spec of its own with one libtorch thread: on 2 cores shared with other work, two intra-op threads
     * spinning against each other made the tutorial several times slower (docs/engine.md, "Threads").
     */
    static final String KERNEL = "rlcd-java-notebooks";

    static Path repo;
    static Path out;
    static Path runs;

    @BeforeAll
    static void setUp() throws Exception {
        JupyterClientsIT.setUp(); // skip/require logic and the kernel spec under target/jupyter
        repo = JupyterClientsIT.target.getParent().getParent();
        int code = new CommandLine(new KernelCommand())
                .execute(
                        "install",
                        "--jupyter-path",
                        JupyterClientsIT.jupyterPath.toString(),
                        "--name",
                        KERNEL,
                        "--classpath",
                        KernelCommand.classpathFromBuild(repo),
                        "--jvm-opt=-Dai.djl.pytorch.num_threads=1",
                        "--jvm-opt=-Xmx2g");
        assertEquals(0, code, "rlcd kernel install " + KERNEL);
        out = JupyterClientsIT.target.resolve("nb-out");
        runs = JupyterClientsIT.target.resolve("nb-runs");
        Files.createDirectories(out);
        deleteTree(runs);
        Files.createDirectories(runs);
    }

    @Test
    void tutorialShowsPairsPreferenceModelPpoAndWinRates() throws Exception {
        long t0 = System.nanoTime();
        JsonObject nb = execute("00-tutorial.ipynb", 600);
        System.out.printf("tutorial executed in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        Outputs o = outputs(nb);
        assertTrue(o.html.size() >= 6, "tables: " + o.html.size());
        assertTrue(o.html.stream().anyMatch(h -> h.contains("<table") && h.contains("p_chosen")), "the pairs table");
        assertTrue(
                o.html.stream().anyMatch(h -> h.contains("preference models: accuracy")),
                "the preference models' accuracy");
        assertTrue(o.html.stream().anyMatch(h -> h.contains("first_position_rate")), "the win-rate table");
        assertTrue(o.png.size() >= 2, "PPO curves and win-rate chart: " + o.png.size());
    }

    @Test
    void reproductionNotebooksRunAtSmokeScaleWithinFifteenMinutes() throws Exception {
        long t0 = System.nanoTime();
        for (String name : List.of("harmlessness", "helpfulness", "outline")) {
            long t = System.nanoTime();
            long left = 900 - (t - t0) / 1_000_000_000L;
            assertTrue(left > 0, "the three notebooks took over 15 minutes before " + name);
            JsonObject nb = execute(name + ".ipynb", left);
            System.out.printf("%s executed in %.0f s%n", name, (System.nanoTime() - t) / 1e9);
            Outputs o = outputs(nb);
            assertTrue(o.html.size() >= 10, name + ": tables: " + o.html.size());
            assertTrue(o.png.size() >= 2, name + ": PPO curve and win-rate chart: " + o.png.size());
            assertTrue(
                    o.html.stream()
                            .anyMatch(h -> h.contains("RLCD vs baselines")
                                    && h.contains("RLCD vs RLAIF")
                                    && h.contains("paper 7B")),
                    name + ": the final table");
            assertTrue(
                    Files.isRegularFile(runs.resolve(name + "-smoke/final-table.csv")),
                    name + ": final-table.csv written");
        }
    }

    private static JsonObject execute(String notebook, long timeoutSeconds) throws Exception {
        List<String> cmd = List.of(
                JupyterClientsIT.JUPYTER,
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.kernel_name=" + KERNEL,
                "--ExecutePreprocessor.timeout=" + timeoutSeconds,
                "--output-dir",
                out.toString(),
                "notebooks/" + notebook);
        JupyterClientsIT.Result r = JupyterClientsIT.run(
                cmd,
                repo.toFile(),
                timeoutSeconds + 60,
                java.util.Map.of("RLCD4J_RUNS", runs.toString(), "RLCD4J_SCALE", "smoke"));
        assertEquals(0, r.exit(), r.output());
        return JsonParser.parseString(Files.readString(out.resolve(notebook))).getAsJsonObject();
    }

    record Outputs(List<String> html, List<String> png) {}

    /** The text/html and image/png outputs of every cell; fails on any error output. */
    static Outputs outputs(JsonObject nb) {
        List<String> html = new ArrayList<>(), png = new ArrayList<>();
        for (JsonElement cell : nb.getAsJsonArray("cells")) {
            JsonArray outputs = cell.getAsJsonObject().getAsJsonArray("outputs");
            if (outputs == null) continue;
            for (JsonElement e : outputs) {
                JsonObject o = e.getAsJsonObject();
                assertTrue(
                        !"error"
                                .equals(
                                        o.has("output_type")
                                                ? o.get("output_type").getAsString()
                                                : ""),
                        "an error output: " + o);
                JsonObject data = o.getAsJsonObject("data");
                if (data == null) continue;
                if (data.has("text/html")) html.add(joined(data.get("text/html")));
                if (data.has("image/png")) png.add(joined(data.get("image/png")));
            }
        }
        return new Outputs(html, png);
    }

    private static String joined(JsonElement e) {
        if (!e.isJsonArray()) return e.getAsString();
        StringBuilder sb = new StringBuilder();
        for (JsonElement x : e.getAsJsonArray()) sb.append(x.getAsString());
        return sb.toString();
    }

    private static void deleteTree(Path p) throws Exception {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
