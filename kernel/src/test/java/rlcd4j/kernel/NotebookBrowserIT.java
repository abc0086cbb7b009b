package rlcd4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import rlcd4j.cli.KernelCommand;

/**
 * The tutorial run in a real browser (issue 24, part 7): Debian's classic {@code jupyter-notebook} server on loopback
 * with a token, Debian's Chromium driven by Playwright ({@code src/test/js/run-notebook.js}, npm
 * {@code playwright-core}). The script opens a copy of {@code notebooks/00-tutorial.ipynb} in a temporary folder,
 * clicks Cell &gt; Run All, waits until the kernel is idle and reports what the DOM shows. Checked here: no error
 * output, HTML tables, charts as decoded data: images, and progress lines redrawn in place. The full-page
 * screenshot is {@code target/browser-test/00-tutorial.png}.
 *
 * <p>The kernel spec is written into a temporary {@code JUPYTER_PATH}, and the server's config, data and runtime
 * folders are temporary too, so the user's Jupyter is not touched. Skipped with a message when Chromium, the
 * notebook server, node or the npm packages are missing; with {@code -Drlcd4j.requireJupyter=true} or
 * {@code RLCD4J_REQUIRE_JUPYTER=true} (CI) it fails instead.
 */
class NotebookBrowserIT {
    static final String CHROMIUM = "/usr/bin/chromium";
    static final String NOTEBOOK_SERVER = "/usr/bin/jupyter-notebook";
    /** The tutorial's own kernelspec name, so the page opens it without asking for a kernel. */
    static final String KERNEL = "rlcd-java";

    static final String TUTORIAL = "00-tutorial.ipynb";
    static final long RUN_ALL_TIMEOUT_S = 900;

    static Path target;
    static Path repo;
    static Path js;
    static String node;

    @BeforeAll
    static void setUp() {
        target = Path.of(System.getProperty("rlcd4j.kernel.target", "target")).toAbsolutePath();
        repo = target.getParent().getParent();
        js = Path.of(System.getProperty("rlcd4j.kernel.testSources", "src/test"))
                .toAbsolutePath()
                .resolve("js");
        node = onPath("node");
        String missing = !Files.isExecutable(Path.of(CHROMIUM))
                ? CHROMIUM + " not found (apt-get install chromium)"
                : !Files.isExecutable(Path.of(NOTEBOOK_SERVER))
                        ? NOTEBOOK_SERVER + " not found (apt-get install jupyter-notebook)"
                        : node == null
                                ? "node not on PATH"
                                : !Files.isDirectory(js.resolve("node_modules/playwright-core"))
                                        ? js.resolve("node_modules/playwright-core") + " not found (run npm ci in " + js
                                                + ")"
                                        : null;
        if (missing == null) return;
        boolean required = Boolean.parseBoolean(System.getProperty("rlcd4j.requireJupyter", "false"))
                || "true".equalsIgnoreCase(System.getenv("RLCD4J_REQUIRE_JUPYTER"));
        if (required) fail("the browser test is required here (rlcd4j.requireJupyter) but " + missing);
        String msg = "SKIPPED the browser test of the tutorial: " + missing;
        System.out.println("\n*** " + msg + "\n");
        Assumptions.abort(msg);
    }

    @Test
    void tutorialRunAllInChromiumShowsTablesChartsAndLiveProgress() throws Exception {
        long t0 = System.nanoTime();
        Path tmp = Files.createTempDirectory("rlcd-browser-test-");
        Path out = target.resolve("browser-test");
        Files.createDirectories(out);
        Files.deleteIfExists(out.resolve("result.json"));
        Process server = null;
        List<ProcessHandle> serverTree = new ArrayList<>();
        try {
            Path notebooks = Files.createDirectories(tmp.resolve("notebooks"));
            Files.copy(repo.resolve("notebooks").resolve(TUTORIAL), notebooks.resolve(TUTORIAL));
            Path jupyterPath = tmp.resolve("jupyter");
            installKernelSpec(jupyterPath);

            int port = freeLoopbackPort();
            String token = UUID.randomUUID().toString().replace("-", "");
            ProcessBuilder pb = new ProcessBuilder(
                            NOTEBOOK_SERVER,
                            "--no-browser",
                            "--ip=127.0.0.1",
                            "--port=" + port,
                            "--port-retries=0",
                            "--notebook-dir=" + notebooks,
                            "--NotebookApp.token=" + token,
                            "--NotebookApp.password=",
                            "--allow-root") // CI runs as root
                    .directory(notebooks.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.resolve("notebook-server.log").toFile());
            Map<String, String> env = pb.environment();
            env.put("JUPYTER_PATH", jupyterPath.toString());
            env.put("JUPYTER_CONFIG_DIR", tmp.resolve("config").toString());
            env.put("JUPYTER_DATA_DIR", tmp.resolve("data").toString());
            env.put("JUPYTER_RUNTIME_DIR", tmp.resolve("runtime").toString());
            env.put("IPYTHONDIR", tmp.resolve("ipython").toString());
            env.put("RLCD4J_RUNS", tmp.resolve("runs").toString()); // fresh stages: every cell computes
            env.put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
            server = pb.start();
            String url = "http://127.0.0.1:" + port + "/";
            waitForServer(server, url + "api/status?token=" + token, out.resolve("notebook-server.log"));
            System.out.printf("notebook server up after %.1f s%n", (System.nanoTime() - t0) / 1e9);

            Process p = new ProcessBuilder(
                            node,
                            js.resolve("run-notebook.js").toString(),
                            url,
                            token,
                            TUTORIAL,
                            out.toString(),
                            Long.toString(RUN_ALL_TIMEOUT_S))
                    .directory(js.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.resolve("browser.log").toFile())
                    .start();
            serverTree.addAll(server.descendants().toList()); // the kernel, started when the page opened
            if (!p.waitFor(RUN_ALL_TIMEOUT_S + 300, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                fail("the browser script did not finish in " + (RUN_ALL_TIMEOUT_S + 300) + " s");
            }
            System.out.println(Files.readString(out.resolve("browser.log")));
            Path resultFile = out.resolve("result.json");
            assertTrue(
                    Files.isRegularFile(resultFile), "the browser script wrote no result (exit " + p.exitValue() + ")");
            JsonObject r = JsonParser.parseString(Files.readString(resultFile)).getAsJsonObject();
            assertTrue(r.get("ok").getAsBoolean(), "the browser run failed: " + r.get("failure"));
            System.out.printf(
                    "browser test: kernel idle after %.0f s, Run All %.0f s, whole test %.0f s%n",
                    r.get("kernelReadySeconds").getAsDouble(),
                    r.get("runAllSeconds").getAsDouble(),
                    (System.nanoTime() - t0) / 1e9);
            check(r);
        } finally {
            if (server != null) {
                serverTree.addAll(server.descendants().toList());
                server.destroy(); // SIGTERM: the server shuts its kernels down
                if (!server.waitFor(20, TimeUnit.SECONDS))
                    server.destroyForcibly().waitFor();
                serverTree.forEach(ProcessHandle::destroyForcibly);
            }
            deleteTree(tmp);
        }
    }

    /** What the page showed after Run All, as reported by run-notebook.js. */
    private static void check(JsonObject r) {
        assertEquals(0, r.getAsJsonArray("errors").size(), "error outputs in the page: " + r.get("errors"));
        List<String> prompts = strings(r.getAsJsonArray("prompts"));
        assertTrue(
                prompts.stream().allMatch(s -> s.matches("In[\\s\\u00a0]*\\[\\d+\\]:")),
                "every code cell ran (numbered prompt): " + prompts);

        List<String> headers = strings(r.getAsJsonArray("tableHeaders"));
        assertTrue(r.get("htmlTables").getAsInt() >= 6, "HTML tables in the page: " + r.get("htmlTables"));
        assertTrue(headers.stream().anyMatch(h -> h.contains("p_chosen")), "the pairs table as HTML: " + headers);
        assertTrue(
                headers.stream().anyMatch(h -> h.contains("first_position_rate")),
                "the win-rate table as HTML: " + headers);

        int charts = r.get("dataImages").getAsInt() + r.get("svgCharts").getAsInt();
        assertTrue(charts >= 2, "charts as images (img with data: or svg): " + charts);
        assertEquals(
                r.get("dataImages").getAsInt(),
                r.get("decodedImages").getAsInt(),
                "every data: image decoded by the browser");

        // One line per toolkit Progress, redrawn in place: every redraw replaced the line's .output_area (a changed
        // replacement per line at least: the finish), and no line was added beyond those left in the page. A kernel
        // or front end that appended a line per update would show no replacements and fail here.
        JsonObject ps = r.getAsJsonObject("progressStats");
        int lines = r.get("progressLines").getAsInt();
        assertTrue(lines >= 1, "progress lines in the page: " + lines);
        assertTrue(
                ps.get("valueChanges").getAsInt() >= lines, "in-place progress redraws that changed the line: " + ps);
        assertEquals(
                ps.get("appended").getAsInt(),
                lines,
                "progress lines added during the run vs. left in the page: " + ps);
        assertEquals(
                lines,
                r.get("progressFinished").getAsInt(),
                "every progress bar full at the end: " + r.get("progressTexts"));
        assertTrue(Files.isRegularFile(Path.of(r.get("screenshot").getAsString())), "the screenshot");
    }

    /**
     * The kernel spec the test's server uses, as JupyterClientsIT/NotebooksIT write theirs: {@code rlcd kernel install
     * --jupyter-path} with the class path of the built modules, copied with this checkout's datasets into the install
     * folder. The notebook runs from a folder outside the checkout, so it finds the sandbox model through the
     * installed kernel alone; one libtorch thread and 2 GB as in NotebooksIT.
     */
    static void installKernelSpec(Path jupyterPath) {
        int code = new CommandLine(new KernelCommand())
                .execute(
                        "install",
                        "--jupyter-path",
                        jupyterPath.toString(),
                        "--name",
                        KERNEL,
                        "--classpath",
                        KernelCommand.classpathFromBuild(repo),
                        "--from",
                        repo.toString(),
                        "--jvm-opt=-Dai.djl.pytorch.num_threads=1",
                        "--jvm-opt=-Xmx2g");
        assertEquals(0, code, "rlcd kernel install --jupyter-path " + jupyterPath);
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void waitForServer(Process server, String statusUrl, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) fail("the notebook server exited: " + Files.readString(log));
            try {
                HttpURLConnection c =
                        (HttpURLConnection) URI.create(statusUrl).toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(2000);
                if (c.getResponseCode() == 200) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        fail("the notebook server did not answer within 120 s: " + Files.readString(log));
    }

    private static String onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, exe);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        for (JsonElement e : a) out.add(e.getAsString());
        return out;
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }
}
