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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import rlcd4j.cli.KernelCommand;

/**
 * The kernel driven by real Jupyter clients from Debian's packages (jupyter_client, jupyter_kernel_test, nbconvert),
 * started as separate processes through /usr/bin/python3 and /usr/bin/jupyter. The kernel spec is written by
 * {@code rlcd kernel install --jupyter-path target/jupyter}, so nothing outside target/ is touched.
 *
 * <p>Where those clients are missing the tests are skipped with a message; with {@code -Drlcd4j.requireJupyter=true}
 * or {@code RLCD4J_REQUIRE_JUPYTER=true} (CI) they fail instead.
 */
class JupyterClientsIT {
    static final String PYTHON = "/usr/bin/python3";
    static final String JUPYTER = "/usr/bin/jupyter";
    static final String KERNEL = "rlcd-java";
    static Path target;
    static Path tests;
    static Path jupyterPath;

    @BeforeAll
    static void setUp() throws Exception {
        target = Path.of(System.getProperty("rlcd4j.kernel.target", "target")).toAbsolutePath();
        tests = Path.of(System.getProperty("rlcd4j.kernel.testSources", "src/test"))
                .toAbsolutePath();
        String missing = missingClients();
        if (missing != null) {
            boolean required = Boolean.parseBoolean(System.getProperty("rlcd4j.requireJupyter", "false"))
                    || "true".equalsIgnoreCase(System.getenv("RLCD4J_REQUIRE_JUPYTER"));
            if (required) fail("Jupyter client tests are required here (rlcd4j.requireJupyter) but " + missing);
            String msg = "SKIPPED the Jupyter client tests of the kernel: " + missing
                    + ". Install them with: apt-get install jupyter-client python3-nbclient jupyter-nbconvert"
                    + " python3-jupyter-kernel-test jupyter-console";
            System.out.println("\n*** " + msg + "\n");
            Assumptions.abort(msg);
        }
        jupyterPath = target.resolve("jupyter");
        String cp = KernelCommand.classpathFromBuild(target.getParent().getParent());
        int code = new CommandLine(new KernelCommand())
                .execute("install", "--jupyter-path", jupyterPath.toString(), "--name", KERNEL, "--classpath", cp);
        assertEquals(0, code, "rlcd kernel install");
    }

    /** Null if /usr/bin/jupyter and the Python modules are there, else what is missing. */
    static String missingClients() throws InterruptedException {
        if (!Files.isExecutable(Path.of(PYTHON))) return PYTHON + " not found";
        if (!Files.isExecutable(Path.of(JUPYTER))) return JUPYTER + " not found";
        try {
            Result r = run(
                    List.of(
                            PYTHON,
                            "-Xfrozen_modules=off",
                            "-c",
                            "import jupyter_client, nbclient, nbconvert, nbformat, jupyter_kernel_test"),
                    tests.toFile(),
                    120);
            return r.exit == 0 ? null : "Python modules missing: " + r.output.strip();
        } catch (IOException e) {
            return "cannot run " + PYTHON + ": " + e.getMessage();
        }
    }

    @Test
    void kernelspecListShowsTheKernel() throws Exception {
        Result r = run(List.of(JUPYTER, "kernelspec", "list"), target.toFile(), 120);
        assertEquals(0, r.exit, r.output);
        assertTrue(
                r.output.contains(KERNEL)
                        && r.output.contains(jupyterPath.resolve("kernels").toString()),
                r.output);
    }

    @Test
    void jupyterKernelTestConformance() throws Exception {
        Result r = python("test_rlcd_kernel");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("\nOK"), r.output);
    }

    @Test
    void failingCellsInterruptProgressMagicsShutdown() throws Exception {
        Result r = python("test_kernel_behaviour");
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("\nOK"), r.output);
    }

    @Test
    void nbconvertExecutesTheDisplayNotebook() throws Exception {
        Path out = target.resolve("nb-out");
        Files.createDirectories(out);
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
                        tests.resolve("notebooks/display.ipynb").toString()),
                target.toFile(),
                600);
        assertEquals(0, r.exit, r.output);
        JsonObject nb = JsonParser.parseString(Files.readString(out.resolve("display.ipynb")))
                .getAsJsonObject();
        List<String> html = new ArrayList<>();
        List<String> png = new ArrayList<>();
        for (JsonElement cell : nb.getAsJsonArray("cells")) {
            JsonArray outputs = cell.getAsJsonObject().getAsJsonArray("outputs");
            if (outputs == null) continue;
            for (JsonElement o : outputs) {
                JsonObject data = o.getAsJsonObject().getAsJsonObject("data");
                if (data == null) continue;
                if (data.has("text/html")) html.add(joined(data.get("text/html")));
                if (data.has("image/png")) png.add(joined(data.get("image/png")));
            }
        }
        assertTrue(
                html.stream().anyMatch(h -> h.contains("<table") && h.contains("30 rows") && h.contains("\u2026")),
                "an HTML table with head/tail and row count: " + html);
        assertTrue(
                png.size() >= 2
                        && png.stream().allMatch(p -> p.replace("\n", "").startsWith("iVBORw0KGgo")),
                "a PNG chart and a PNG image: " + png.size());
    }

    private static String joined(JsonElement e) {
        if (e.isJsonArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonElement x : e.getAsJsonArray()) sb.append(x.getAsString());
            return sb.toString();
        }
        return e.getAsString();
    }

    private static Result python(String module) throws Exception {
        return run(
                List.of(PYTHON, "-Xfrozen_modules=off", "-m", "unittest", "-v", module),
                tests.resolve("python").toFile(),
                600);
    }

    record Result(int exit, String output) {}

    static Result run(List<String> cmd, File dir, long timeoutSeconds) throws IOException, InterruptedException {
        return run(cmd, dir, timeoutSeconds, Map.of());
    }

    static Result run(List<String> cmd, File dir, long timeoutSeconds, Map<String, String> extraEnv)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.putAll(extraEnv);
        if (jupyterPath != null) env.put("JUPYTER_PATH", jupyterPath.toString());
        env.put("KERNEL_NAME", KERNEL);
        env.put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
        // A jar that is not on the kernel's class path, for the %classpath test.
        Path jar = jarOf(org.opentest4j.AssertionFailedError.class);
        if (jar != null) {
            env.put("RLCD4J_TEST_JAR", jar.toString());
            env.put("RLCD4J_TEST_JAR_CLASS", "org.opentest4j.AssertionFailedError");
        }
        Path extJar = extensionJar();
        if (extJar != null) env.put("RLCD4J_TEST_EXT_JAR", extJar.toString());
        Path log = Files.createTempFile("rlcd-it-", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly); // e.g. the kernel nbconvert started
            p.destroyForcibly().waitFor();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        System.out.println("$ " + String.join(" ", cmd) + "\n" + output);
        return new Result(
                done ? p.exitValue() : -1, done ? output : output + "\n[timed out after " + timeoutSeconds + " s]");
    }

    private static Path extensionJar;

    /**
     * A jar that is not on the kernel's class path holding a JJava display extension (found through
     * META-INF/services), compiled here: the kernel must install it when {@code %classpath} adds the jar.
     */
    static synchronized Path extensionJar() throws IOException {
        if (extensionJar != null) return extensionJar;
        javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
        if (javac == null) return null;
        Path dir = Files.createDirectories(target.resolve("test-extension"));
        Path src = Files.createDirectories(dir.resolve("src/rlcd4j/testext"));
        Files.writeString(
                src.resolve("Greeting.java"),
                "package rlcd4j.testext;\n"
                        + "public final class Greeting {\n  final String who;\n"
                        + "  public Greeting(String who) { this.who = who; }\n"
                        + "  @Override public String toString() { return \"Greeting \" + who; }\n}\n");
        Files.writeString(
                src.resolve("GreetingExtension.java"),
                "package rlcd4j.testext;\n"
                        + "import org.dflib.jjava.jupyter.kernel.BaseKernel;\n"
                        + "import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;\n"
                        + "public final class GreetingExtension implements org.dflib.jjava.jupyter.Extension {\n"
                        + "  @Override public void install(BaseKernel kernel) {\n"
                        + "    kernel.getRenderer().createRegistration(Greeting.class).preferring(MIMEType.TEXT_HTML)\n"
                        + "        .register((g, ctx) -> ctx.renderIfRequested(MIMEType.TEXT_HTML, () -> \"<b>hello \" + g.who + \"</b>\"));\n"
                        + "  }\n}\n");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        int rc = javac.run(
                null,
                null,
                null,
                "-d",
                classes.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                src.resolve("Greeting.java").toString(),
                src.resolve("GreetingExtension.java").toString());
        if (rc != 0) throw new IOException("could not compile the test extension");
        Path jar = dir.resolve("greeting-extension.jar");
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            for (String name : List.of("Greeting.class", "GreetingExtension.class")) {
                out.putNextEntry(new java.util.jar.JarEntry("rlcd4j/testext/" + name));
                out.write(Files.readAllBytes(classes.resolve("rlcd4j/testext").resolve(name)));
                out.closeEntry();
            }
            out.putNextEntry(new java.util.jar.JarEntry("META-INF/services/org.dflib.jjava.jupyter.Extension"));
            out.write("rlcd4j.testext.GreetingExtension\n".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        extensionJar = jar;
        return jar;
    }

    private static Path jarOf(Class<?> c) {
        try {
            Path p = Path.of(
                    c.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(p) ? p : null;
        } catch (Exception e) {
            return null;
        }
    }
}
