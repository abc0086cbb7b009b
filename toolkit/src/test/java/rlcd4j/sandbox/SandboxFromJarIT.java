package rlcd4j.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user who depends on the toolkit jar, with no checkout: a program whose class path is the packaged jar and its
 * dependency jars only, run in a folder outside the checkout without -Drlcd4j.home, loads the sandbox base model,
 * generates a few tokens and simulates two pairs from the bundled descriptions. Runs after {@code package}
 * (failsafe), which writes the jar and target/classpath.txt.
 */
class SandboxFromJarIT {
    private static final String PROGRAM = """
            import java.nio.file.Path;
            import java.util.List;
            import rlcd4j.Rlcd;
            import rlcd4j.contrast.AttributeSpec;
            import rlcd4j.contrast.Method;
            import rlcd4j.contrast.Simulator;
            import rlcd4j.data.PromptSet;
            import rlcd4j.engine.CausalLM;
            import rlcd4j.engine.GenerationConfig;
            import rlcd4j.sandbox.SandboxTask;
            import rlcd4j.data.PreferencePairs;

            public class SandboxUser {
                public static void main(String[] args) {
                    Path model = Rlcd.sandboxModel();
                    System.out.println("model: " + model);
                    System.out.println("home: " + Rlcd.home());
                    List<String> prompts = Rlcd.sandboxPrompts(SandboxTask.HARMLESS, 2, false, 0);
                    try (CausalLM lm = CausalLM.load(model)) {
                        var generation = lm.generate(prompts.get(0), GenerationConfig.greedy(5));
                        System.out.println("generated ids: " + generation.ids().length);
                        PreferencePairs pairs = Simulator.run(lm, PromptSet.of("harmless", prompts),
                                AttributeSpec.forTask("harmless"), Method.RLCD,
                                Simulator.Options.defaults().withMaxNewTokens(8));
                        System.out.println("pairs: " + pairs.size());
                    }
                }
            }
            """;

    @Test
    void sandboxRunsFromTheJarAlone(@TempDir Path work) throws Exception {
        Path jar = Path.of(System.getProperty("rlcd4j.toolkit.jar"));
        Path classpathFile = Path.of(System.getProperty("rlcd4j.toolkit.classpath"));
        assertTrue(Files.isRegularFile(jar), jar + " (run ./mvnw verify, which packages the jar first)");
        String classpath = jar
                + java.io.File.pathSeparator
                + Files.readString(classpathFile).strip();
        Path program = work.resolve("SandboxUser.java");
        Files.writeString(program, PROGRAM);
        Path cache = work.resolve("cache");

        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-Dai.djl.offline=true",
                "-Djava.awt.headless=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-cp",
                classpath,
                program.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.remove("RLCD4J_HOME");
        env.remove("RLCD4J_RUNS");
        env.remove("CLASSPATH");
        env.put("XDG_CACHE_HOME", cache.toString()); // the extracted model goes here, not into the user's cache
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);

        assertTrue(out.contains("model: " + cache.resolve("rlcd4j")), out);
        assertTrue(out.matches("(?s).*generated ids: [1-5]\\b.*"), out);
        assertTrue(out.contains("pairs: 2"), out);
        String modelLine =
                out.lines().filter(l -> l.startsWith("model: ")).findFirst().orElseThrow();
        Path extracted = Path.of(modelLine.substring("model: ".length()));
        assertTrue(Files.isRegularFile(extracted.resolve("model.safetensors")), extracted.toString());
        assertTrue(!extracted.startsWith(Path.of(System.getProperty("rlcd4j.root"))), extracted.toString());
    }
}
