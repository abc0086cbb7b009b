package rlcd4j;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.DataFiles;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.engine.remote.OpenAiCompletionsBackend;
import rlcd4j.hub.HfHub;
import rlcd4j.sandbox.SandboxBaseModel;
import rlcd4j.sandbox.SandboxTask;
import rlcd4j.sandbox.SandboxWorld;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvReadOptions;

/**
 * One-liners for notebooks and JShell. Each delegates to the class that does the work; nothing here has logic of
 * its own beyond choosing what to call.
 */
public final class Rlcd {
    private Rlcd() {}

    /** The file {@code rlcd kernel install} writes into the folder it copies the kernel and datasets/ to. */
    public static final String INSTALL_MARKER = "rlcd4j-install.json";

    /**
     * Where the bundled datasets are: the checkout at or above the working directory (a folder with {@code datasets/}
     * and {@code pom.xml}; a notebook's kernel runs in {@code notebooks/}), else the first folder at or above
     * {@code -Drlcd4j.home} that is a checkout or a kernel install ({@code datasets/} and {@value #INSTALL_MARKER}).
     * {@code rlcd kernel install} passes its install folder that way, so notebooks in any folder find the data. With
     * neither (a program that only depends on the toolkit jar), the folder that holds the jar's datasets extracted
     * ({@link DataFiles#bundledRoot()}).
     */
    public static Path home() {
        Path workingDir = Paths.get("").toAbsolutePath();
        String homeProperty = System.getProperty("rlcd4j.home");
        try {
            return home(workingDir, homeProperty);
        } catch (RlcdException notOnDisk) {
            Path bundled = DataFiles.bundledRoot();
            if (bundled == null) throw notOnDisk;
            return bundled.getParent();
        }
    }

    static Path home(Path workingDir, String homeProperty) {
        Path found = above(workingDir, false);
        if (found == null && homeProperty != null && !homeProperty.isBlank()) {
            found = above(Paths.get(homeProperty).toAbsolutePath(), true);
        }
        if (found == null) found = above(workingDir, true);
        if (found != null) return found;
        throw new RlcdException((homeProperty != null ? "-Drlcd4j.home=" + homeProperty + " and " : "") + workingDir
                + ": not inside an rlcd4j checkout or kernel install (no datasets/ with pom.xml or " + INSTALL_MARKER
                + " above it); reinstall the kernel with ./rlcd kernel install, or set -Drlcd4j.home");
    }

    /** The first folder at or above {@code start} with datasets/ and pom.xml (or, {@code orInstall}, the marker). */
    private static Path above(Path start, boolean orInstall) {
        for (Path d = start; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("datasets"))
                    && (Files.isRegularFile(d.resolve("pom.xml"))
                            || orInstall && Files.isRegularFile(d.resolve(INSTALL_MARKER)))) {
                return d;
            }
        }
        return null;
    }

    /** The bundled 3.6M-parameter sandbox base model ({@code datasets/sandbox/base-model}). */
    public static Path sandboxModel() {
        return SandboxBaseModel.folder();
    }

    /**
     * {@code dir} under {@code $RLCD4J_RUNS} when that variable is set (CI points it at a temporary folder), else
     * under {@code runs/} of the checkout {@link #home()} finds, else (a notebook outside any checkout, on an installed
     * kernel, or a program that only depends on the jar) under {@code runs/} of the working directory: never inside
     * the kernel's install folder, which a reinstall replaces.
     */
    public static Path runDir(String name) {
        String env = System.getenv("RLCD4J_RUNS");
        if (env != null && !env.isBlank()) return Paths.get(env).resolve(name);
        return runDir(Paths.get("").toAbsolutePath(), System.getProperty("rlcd4j.home"), name);
    }

    static Path runDir(Path workingDir, String homeProperty, String name) {
        Path home = above(workingDir, false);
        if (home == null && homeProperty != null && !homeProperty.isBlank()) {
            home = above(Paths.get(homeProperty).toAbsolutePath(), true);
        }
        Path base = home != null && Files.isRegularFile(home.resolve("pom.xml")) ? home : workingDir;
        return base.resolve("runs").resolve(name);
    }

    /**
     * {@code n} distinct sandbox prompts of {@code task}: training keys (for simulation and PPO), or held-out keys
     * (for evaluation), drawn with {@code seed}.
     */
    public static List<String> sandboxPrompts(SandboxTask task, int n, boolean heldOut, long seed) {
        SandboxWorld world = SandboxWorld.standard();
        Random rng = new Random(seed * 7919 + (heldOut ? 1 : 0));
        LinkedHashSet<String> out = new LinkedHashSet<>();
        int tries = 0;
        while (out.size() < n && tries++ < n * 50) {
            out.add((heldOut ? world.evaluationDialogue(task, rng) : world.simulationDialogue(task, rng)).prompt());
        }
        if (out.size() < n)
            throw new RlcdException("the sandbox produced only " + out.size() + " distinct prompts of " + n);
        return new ArrayList<>(out);
    }

    /** A model by folder or Hugging Face repo id (cache, or download), on the device and in the dtype of {@code options}. */
    public static CausalLM load(String model, CausalLM.Options options) {
        return CausalLM.load(model, options);
    }

    /**
     * A trained policy: {@code trained} is either a whole model folder (full fine-tuning) or a PEFT adapter folder
     * ({@code adapter_config.json}, LoRA), which is then put on a fresh copy of {@code base}.
     */
    public static CausalLM load(String base, Path trained, CausalLM.Options options) {
        if (!Files.isRegularFile(trained.resolve("adapter_config.json")))
            return CausalLM.load(trained.toString(), options);
        CausalLM lm = CausalLM.load(base, options);
        try {
            lm.model().setAdapter(LoraAdapter.load(trained, lm.config(), lm.manager()));
            return lm;
        } catch (RuntimeException e) {
            lm.close();
            throw e;
        }
    }

    /**
     * Simulates preference pairs with {@code model} in process, or, when {@code servers} names OpenAI-compatible
     * servers (comma-separated base URLs such as {@code http://gpu1:8000/v1}; vLLM, SGLang, TGI, {@code rlcd serve}),
     * on them, with {@code model}'s tokenizer (see docs/scale.md). The reproduction notebooks' simulation cell.
     */
    public static PreferencePairs simulate(
            String model,
            String servers,
            CausalLM.Options device,
            PromptSet prompts,
            AttributeSpec spec,
            Method method,
            Simulator.Options options) {
        if (servers != null && !servers.isBlank()) {
            List<String> urls = new ArrayList<>();
            for (String u : servers.split(",")) if (!u.isBlank()) urls.add(u.strip());
            try (OpenAiCompletionsBackend backend = OpenAiCompletionsBackend.builder()
                    .servers(urls)
                    .modelFiles(model, HfHub.fromEnvironment())
                    .build()) {
                return Simulator.run(backend, prompts, spec, method, options);
            }
        }
        try (CausalLM lm = load(model, device)) {
            return Simulator.run(lm, prompts, spec, method, options);
        }
    }

    /**
     * The paper's reported numbers ({@code datasets/paper_results.csv}; its {@code source} column says where each row
     * comes from), optionally only the rows whose {@code task} is one of {@code tasks}.
     */
    public static Table paperResults(String... tasks) {
        String csv = DataFiles.content(DataFiles.bundled("paper_results.csv")).stream()
                .map(DataFiles.Line::text)
                .collect(Collectors.joining("\n"));
        Table t = Table.read()
                .usingOptions(CsvReadOptions.builder(new StringReader(csv))
                        .tableName("paper results")
                        .columnTypesPartial(
                                java.util.Map.of("rlcd", ColumnType.DOUBLE, "baseline", ColumnType.DOUBLE)));
        if (tasks.length == 0) return t;
        return t.where(t.stringColumn("task").isIn(tasks));
    }
}
