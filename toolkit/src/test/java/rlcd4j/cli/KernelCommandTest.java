package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.Rlcd;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

class KernelCommandTest {
    /** A checkout-like folder: pom.xml with a version, datasets/ with a sandbox model, a jar and a class folder. */
    record Source(Path checkout, Path jar, Path classes) {
        String classpath() {
            return classes + ":" + jar;
        }
    }

    static Source source(Path dir, String version) throws Exception {
        Path checkout = Files.createDirectories(dir.resolve("checkout"));
        Files.writeString(
                checkout.resolve("pom.xml"),
                "<project><artifactId>rlcd4j-parent</artifactId>\n  <version>" + version + "</version></project>\n");
        Path model = Files.createDirectories(checkout.resolve("datasets/sandbox/base-model"));
        Files.writeString(model.resolve("model.safetensors"), "weights");
        Files.writeString(checkout.resolve("datasets/paper_results.csv"), "task,rlcd\n");
        Path classes = Files.createDirectories(checkout.resolve("toolkit/target/classes/rlcd4j"));
        Files.writeString(classes.resolve("X.class"), "class");
        Path nativeLib = Files.createDirectories(checkout.resolve("toolkit/target/classes/linux-x86-64"));
        Files.writeString(nativeLib.resolve("librlcd4j_kernels.so"), "so");
        Path jar = Files.createDirectories(dir.resolve("m2/org/dep/1.0")).resolve("dep-1.0.jar");
        Files.writeString(jar, "jar");
        return new Source(checkout, jar, checkout.resolve("toolkit/target/classes"));
    }

    static int kernel(String... args) {
        return new CommandLine(new KernelCommand()).execute(args);
    }

    static List<String> argv(Path kernelJson) throws Exception {
        JsonArray a = Json.parseObject(Files.readString(kernelJson)).getAsJsonArray("argv");
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
    }

    static void deleteTree(Path p) throws Exception {
        KernelCommand.deleteTree(p);
    }

    @Test
    void installCopiesEverythingAndSurvivesRemovingTheSources(@TempDir Path dir) throws Exception {
        Source src = source(dir, "9.9");
        Path jupyter = dir.resolve("jupyter");
        assertEquals(
                0,
                kernel(
                        "install",
                        "--jupyter-path",
                        jupyter.toString(),
                        "--name",
                        "rlcd-test",
                        "--classpath",
                        src.classpath(),
                        "--from",
                        src.checkout().toString(),
                        "--jvm-opt=-Xmx2g",
                        "--env",
                        "RLCD4J_SCALE=smoke",
                        "--env",
                        "GOMP_SPINCOUNT=0"));
        // mvn clean, a moved checkout and an emptied Maven cache: the sources are gone.
        deleteTree(src.checkout());
        deleteTree(dir.resolve("m2"));

        Path spec = jupyter.resolve("kernels/rlcd-test");
        Path home = spec.resolve("rlcd4j-9.9");
        String json = Files.readString(spec.resolve("kernel.json"));
        assertFalse(
                json.contains(src.checkout().toString())
                        || json.contains(dir.resolve("m2").toString()),
                json);
        List<String> argv = argv(spec.resolve("kernel.json"));
        assertTrue(argv.contains("-Drlcd4j.home=" + home), json);
        assertTrue(argv.containsAll(List.of("-Xmx2g", "-Dai.djl.offline=true", "-Djava.awt.headless=true")), json);
        assertTrue(argv.contains("-Drlcd4j.mklIntelPath=true"), "the project's kernel opts in: " + json);
        assertEquals(
                List.of("rlcd4j.kernel.RlcdKernel", "{connection_file}"), argv.subList(argv.size() - 2, argv.size()));
        String[] cp = argv.get(argv.indexOf("-cp") + 1).split(":");
        assertEquals(
                List.of(
                        home.resolve("lib/toolkit-classes").toString(),
                        home.resolve("lib/dep-1.0.jar").toString()),
                List.of(cp),
                "class path order is kept");
        for (String e : cp) assertTrue(Files.exists(Path.of(e)), e);
        assertTrue(Files.isRegularFile(home.resolve("lib/toolkit-classes/linux-x86-64/librlcd4j_kernels.so")));
        JsonObject env = Json.parseObject(json).getAsJsonObject("env");
        assertEquals("smoke", env.get("RLCD4J_SCALE").getAsString());
        assertEquals("0", env.get("GOMP_SPINCOUNT").getAsString(), "--env overrides the default");
        assertTrue(json.contains("\"interrupt_mode\": \"message\"") && json.contains("\"language\": \"java\""), json);

        // What the kernel's lookups recognise (Rlcd.home(), SandboxBaseModel.folder(): RlcdHomeTest).
        assertTrue(Files.isRegularFile(home.resolve(Rlcd.INSTALL_MARKER)));
        assertTrue(Files.isRegularFile(home.resolve("datasets/sandbox/base-model/model.safetensors")));
    }

    @Test
    void reinstallReplacesTheEarlierVersionAndUninstallRemovesAll(@TempDir Path dir) throws Exception {
        Source src = source(dir.resolve("a"), "1.0");
        Path jupyter = dir.resolve("jupyter");
        assertEquals(
                0,
                kernel(
                        "install",
                        "--jupyter-path",
                        jupyter.toString(),
                        "--classpath",
                        src.classpath(),
                        "--from",
                        src.checkout().toString()));
        Source newer = source(dir.resolve("b"), "1.1");
        assertEquals(
                0,
                kernel(
                        "install",
                        "--jupyter-path",
                        jupyter.toString(),
                        "--classpath",
                        newer.classpath(),
                        "--from",
                        newer.checkout().toString()));
        Path spec = jupyter.resolve("kernels/rlcd-java");
        try (var s = Files.list(spec)) {
            assertEquals(
                    List.of("kernel.json", "rlcd4j-1.1"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals(0, kernel("uninstall", "--jupyter-path", jupyter.toString()));
        assertFalse(Files.exists(spec));
        assertNotEquals(0, kernel("uninstall", "--jupyter-path", jupyter.toString()), "nothing left to remove");
    }

    @Test
    void uninstallLeavesOtherKernelsAlone(@TempDir Path dir) throws Exception {
        Path other = Files.createDirectories(dir.resolve("kernels/python3"));
        Files.writeString(other.resolve("kernel.json"), "{\"argv\": [\"python\", \"-m\", \"ipykernel_launcher\"]}");
        assertNotEquals(0, kernel("uninstall", "--jupyter-path", dir.toString(), "--name", "python3"));
        assertTrue(Files.exists(other.resolve("kernel.json")));
    }

    @Test
    void listShowsInstalledKernelsAndOnesThatNoLongerStart(@TempDir Path dir) throws Exception {
        Source src = source(dir, "2.0");
        Path jupyter = dir.resolve("jupyter");
        assertEquals(
                0,
                kernel(
                        "install",
                        "--jupyter-path",
                        jupyter.toString(),
                        "--classpath",
                        src.classpath(),
                        "--from",
                        src.checkout().toString()));
        // A spec written before install copied its files, pointing at a build folder that mvn clean removed.
        Path old = Files.createDirectories(jupyter.resolve("kernels/rlcd-old"));
        Files.writeString(
                old.resolve("kernel.json"),
                "{\"argv\": [\"java\", \"-cp\", \""
                        + dir.resolve("gone/target/classes")
                        + "\", \"rlcd4j.kernel.RlcdKernel\", \"{connection_file}\"]}");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = System.out;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, kernel("list", "--jupyter-path", jupyter.toString()));
        } finally {
            System.setOut(out);
        }
        String listing = buf.toString(StandardCharsets.UTF_8);
        assertTrue(
                listing.lines()
                        .anyMatch(l -> l.startsWith("rlcd-java ") && l.contains("rlcd4j-2.0") && l.endsWith(" ok")),
                listing);
        assertTrue(
                listing.lines()
                        .anyMatch(l -> l.startsWith("rlcd-old ")
                                && l.contains("BROKEN")
                                && l.contains("gone/target/classes")
                                && l.contains("reinstall")),
                listing);
    }

    @Test
    void aJarShadowedByItsModulesClassesFolderIsNotCopied(@TempDir Path dir) throws Exception {
        Path classes = Files.createDirectories(dir.resolve("toolkit/target/classes"));
        Path jar = Files.writeString(dir.resolve("toolkit/target/rlcd4j-toolkit-1.0.jar"), "jar");
        Path dep = Files.writeString(dir.resolve("dep.jar"), "jar");
        assertEquals(List.of(classes, dep), KernelCommand.withoutShadowedJars(List.of(classes, jar, dep)));
        assertEquals(
                List.of(jar, classes, dep),
                KernelCommand.withoutShadowedJars(List.of(jar, classes, dep)),
                "a jar before the folder is what loads, so it stays");
    }

    @Test
    void prefixInstallsUnderShareJupyter(@TempDir Path dir) throws Exception {
        Source src = source(dir, "1.0");
        Path prefix = dir.resolve("prefix");
        assertEquals(
                0,
                kernel(
                        "install",
                        "--prefix",
                        prefix.toString(),
                        "--classpath",
                        src.classpath(),
                        "--from",
                        src.checkout().toString()));
        assertTrue(Files.isRegularFile(prefix.resolve("share/jupyter/kernels/rlcd-java/kernel.json")));
        Path spec = prefix.resolve("share/jupyter/kernels/rlcd-java");
        assertTrue(Files.isRegularFile(spec.resolve("rlcd4j-1.0").resolve(Rlcd.INSTALL_MARKER)));
    }

    @Test
    void missingClasspathEntryIsOneClearErrorAndInstallsNothing(@TempDir Path dir) throws Exception {
        Source src = source(dir, "1.0");
        RlcdException e =
                assertThrows(RlcdException.class, () -> KernelCommand.classpathEntries(src.jar() + ":/no/such.jar"));
        assertTrue(e.getMessage().contains("/no/such.jar: not found"), e.getMessage());
        assertNotEquals(
                0,
                kernel(
                        "install",
                        "--jupyter-path",
                        dir.resolve("j").toString(),
                        "--classpath",
                        src.jar() + ":/no/such.jar",
                        "--from",
                        src.checkout().toString()));
        assertFalse(Files.exists(dir.resolve("j/kernels/rlcd-java/kernel.json")));
    }

    @Test
    void badEnvAndNameAreRefused(@TempDir Path dir) throws Exception {
        Source src = source(dir, "1.0");
        assertNotEquals(
                0,
                kernel(
                        "install",
                        "--jupyter-path",
                        dir.toString(),
                        "--classpath",
                        src.classpath(),
                        "--from",
                        src.checkout().toString(),
                        "--env",
                        "1BAD=x"));
        assertNotEquals(0, kernel("install", "--jupyter-path", dir.toString(), "--name", "a/b"));
    }

    @Test
    void targetsAreExclusive(@TempDir Path dir) {
        int code = kernel("install", "--user", "--prefix", dir.toString(), "--classpath", "x.jar");
        assertEquals(2, code);
    }

    @Test
    void missingBuildIsOneClearError(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("kernel/target"));
        RlcdException e = assertThrows(RlcdException.class, () -> KernelCommand.classpathFromBuild(root));
        assertTrue(e.getMessage().contains("classpath.txt: not found; build the kernel first"), e.getMessage());
    }

    @Test
    void classpathFromBuildJoinsKernelJarAndDependencies(@TempDir Path root) throws Exception {
        Path target = Files.createDirectories(root.resolve("kernel/target"));
        Files.writeString(target.resolve("classpath.txt"), "/d/one.jar:/d/two.jar\n");
        Files.writeString(target.resolve("rlcd4j-kernel-0.1.0-SNAPSHOT.jar"), "");
        assertEquals(
                target.resolve("rlcd4j-kernel-0.1.0-SNAPSHOT.jar") + ":/d/one.jar:/d/two.jar",
                KernelCommand.classpathFromBuild(root));
    }

    /** A kernel that is not installed: nbconvert fails, the command says so and leaves the old page. */
    @Test
    void renderTutorialOnAKernelThatIsNotInstalledFailsAndKeepsTheOldPage(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/jupyter")), "jupyter-nbconvert not installed");
        Path page = Files.writeString(dir.resolve("tutorial.html"), "the old page");
        int code = kernel(
                "render-tutorial",
                "--name",
                "rlcd-not-installed",
                "--jupyter-path",
                dir.resolve("jupyter").toString(),
                "--out",
                page.toString(),
                "--timeout",
                "120");
        assertNotEquals(0, code);
        assertEquals("the old page", Files.readString(page));
    }
}
