package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.OutlinePremises;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.engine.remote.OpenAiCompletionsBackend;
import rlcd4j.eval.HumanSheet;
import rlcd4j.eval.LocalJudge;
import rlcd4j.eval.OpenAiJudge;
import rlcd4j.eval.PairwiseEvaluation;
import rlcd4j.pipeline.Demo;
import rlcd4j.sandbox.SandboxPretraining;
import rlcd4j.serve.OpenAiServer;
import rlcd4j.train.DpoTrainer;
import rlcd4j.train.PpoTrainer;
import rlcd4j.train.PreferenceModelTrainer;
import rlcd4j.train.SftTrainer;
import rlcd4j.train.TrainingArgs;

/**
 * Each option's default, as {@code --help} shows it, is the library config's default: a changed config default
 * changes the CLI with it. The few defaults that belong to the CLI alone are listed here by name.
 */
class CliDefaultsTest {
    /** Defaults with no library config behind them: paths, choices of the command, and sentinels. */
    private static final Map<String, Set<String>> CLI_ONLY = Map.of(
            "decode", Set.of("--split"),
            "eval", Set.of("--judge"),
            "pretrain", Set.of("--out", "--work"),
            "demo", Set.of("--new-tokens"),
            "train-pm", Set.of("--human-limit"),
            "outline-premises", Set.of("--out"),
            "human-sheet export", Set.of("--title"),
            "kernel install", Set.of("--name", "--display-name"),
            "kernel uninstall", Set.of("--name"),
            "kernel render-tutorial", Set.of("--name", "--timeout"));

    static Map<String, Map<String, Object>> expected() {
        Map<String, Map<String, Object>> e = new HashMap<>();
        PreferenceModelTrainer.Config pm = PreferenceModelTrainer.Config.defaults();
        Map<String, Object> trainPm = training(pm.training(), pm.maxLength());
        trainPm.put("--eval-size", pm.evalSize());
        trainPm.put("--eval-every", pm.evalEvery());
        e.put("train-pm", trainPm);
        SftTrainer.Config sft = SftTrainer.Config.defaults();
        e.put("sft", training(sft.training(), sft.maxLength()));
        DpoTrainer.Config dpo = DpoTrainer.Config.defaults();
        Map<String, Object> d = training(dpo.training(), dpo.maxLength());
        d.put("--beta", dpo.beta());
        d.put("--loss", "dpo");
        e.put("dpo", d);

        PpoTrainer.Config ppo = PpoTrainer.Config.defaults();
        e.put(
                "ppo",
                new HashMap<>(Map.ofEntries(
                        Map.entry("--steps", ppo.totalSteps()),
                        Map.entry("--save-steps", ppo.saveSteps()),
                        Map.entry("--kl", ppo.klCoef()),
                        Map.entry("--lr", ppo.lr()),
                        Map.entry("--rollout-batch", ppo.rolloutBatchSize()),
                        Map.entry("--step-batch", ppo.stepBatchSize()),
                        Map.entry("--micro-batch", ppo.microBatchSize()),
                        Map.entry("--response-length", ppo.responseLength()),
                        Map.entry("--query-length", ppo.queryLength()),
                        Map.entry("--seed", ppo.seed()),
                        Map.entry("--warmup-steps", ppo.warmupSteps()),
                        Map.entry("--lora-rank", 0),
                        Map.entry("--lora-alpha", LoraAdapter.Config.defaults().alpha()))));
        assertNull(ppo.lora(), "--lora-rank 0 is full fine-tuning, the config's default");

        GenerationConfig eval = GenerationConfig.evaluation();
        Map<String, Object> decode = generation(eval);
        decode.put("--batch-size", eval.batchSize());
        decode.put("--server-in-flight", OpenAiCompletionsBackend.DEFAULT_MAX_IN_FLIGHT);
        e.put("decode", decode);
        Map<String, Object> generate = generation(GenerationConfig.defaults());
        generate.put("--decode-weights", rlcd4j.engine.CausalLM.Options.DEFAULT_DECODE_WEIGHTS);
        e.put("generate", generate);

        Simulator.Options sim = Simulator.Options.defaults();
        e.put(
                "simulate",
                Map.of(
                        "--seed",
                        sim.seed(),
                        "--batch-size",
                        sim.generation().batchSize(),
                        "--max-new-tokens",
                        sim.generation().maxNewTokens(),
                        "--max-attempts",
                        sim.maxAttempts(),
                        "--score-batch-size",
                        sim.scoreBatchSize(),
                        "--server-in-flight",
                        OpenAiCompletionsBackend.DEFAULT_MAX_IN_FLIGHT));

        SandboxPretraining.Options pre = SandboxPretraining.Options.defaults();
        e.put(
                "pretrain",
                Map.of(
                        "--seed",
                        pre.seed(),
                        "--dialogues",
                        pre.dialogues(),
                        "--described",
                        pre.mix().described(),
                        "--steps",
                        pre.training().steps(),
                        "--batch",
                        pre.training().batchSize(),
                        "--seq-len",
                        pre.training().seqLen(),
                        "--lr",
                        pre.training().lr()));

        LocalJudge.Config local = LocalJudge.Config.defaults();
        OpenAiJudge.Config api = OpenAiJudge.Config.defaults();
        assertEquals(local.task(), api.task(), "--task serves both judges");
        PairwiseEvaluation.Config pairwise = PairwiseEvaluation.Config.defaults();
        e.put(
                "eval",
                Map.of(
                        "--judge-batch",
                        local.batchSize(),
                        "--task",
                        local.task().key(),
                        "--timeout",
                        api.timeout().toSeconds(),
                        "--order",
                        pairwise.order().name().toLowerCase(Locale.ROOT),
                        "--seed",
                        pairwise.seed(),
                        "--limit",
                        pairwise.limit(),
                        "--resamples",
                        pairwise.resamples()));
        HumanSheet.Config sheet = HumanSheet.Config.defaults();
        e.put(
                "human-sheet export",
                Map.of("--question", sheet.question(), "--sample", sheet.sample(), "--seed", sheet.seed()));

        OpenAiServer.Options serve = OpenAiServer.Options.defaults("m");
        e.put(
                "serve",
                Map.of(
                        "--host",
                        serve.host(),
                        "--port",
                        serve.port(),
                        "--batch-size",
                        serve.batchSize(),
                        "--max-n",
                        serve.maxN(),
                        "--max-waiting",
                        serve.maxWaiting(),
                        "--threads",
                        serve.threads(),
                        "--decode-weights",
                        rlcd4j.engine.CausalLM.Options.DEFAULT_DECODE_WEIGHTS));

        Demo.Options demo = Demo.Options.defaults(Path.of("m"), Path.of("o"));
        e.put(
                "demo",
                Map.of(
                        "--task",
                        demo.task().id(),
                        "--prompts",
                        demo.prompts(),
                        "--sim-prompts",
                        demo.simPrompts(),
                        "--eval-prompts",
                        demo.evalPrompts(),
                        "--ppo-steps",
                        demo.ppoSteps(),
                        "--seed",
                        demo.seed()));

        e.put("outline-premises", Map.of("--n", OutlinePremises.BUNDLED_SIZE, "--seed", OutlinePremises.BUNDLED_SEED));
        return e;
    }

    private static Map<String, Object> training(TrainingArgs t, int maxLength) {
        LoraAdapter.Config lora = LoraAdapter.Config.defaults();
        return new HashMap<>(Map.ofEntries(
                Map.entry("--lr", t.learningRate()),
                Map.entry("--epochs", t.epochs()),
                Map.entry("--batch-size", t.batchSize()),
                Map.entry("--micro-batch-size", t.microBatchSize()),
                Map.entry("--max-length", maxLength),
                Map.entry("--schedule", "cosine"),
                Map.entry("--warmup-ratio", t.warmupRatio()),
                Map.entry("--weight-decay", t.weightDecay()),
                Map.entry("--max-grad-norm", t.maxGradNorm()),
                Map.entry("--seed", t.seed()),
                Map.entry("--save-every", t.saveEvery()),
                Map.entry("--lora-alpha", lora.alpha()),
                Map.entry("--lora-dropout", lora.dropout()),
                Map.entry("--lora-targets", "q_proj,v_proj")));
    }

    private static Map<String, Object> generation(GenerationConfig g) {
        return new HashMap<>(Map.of(
                "--max-new-tokens",
                g.maxNewTokens(),
                "--temperature",
                g.temperature(),
                "--top-p",
                g.topP(),
                "--top-k",
                g.topK(),
                "--seed",
                g.seed()));
    }

    @Test
    void everyDisplayedDefaultIsTheConfigDefault() {
        Map<String, Map<String, Object>> expected = expected();
        List<String> problems = new ArrayList<>();
        Map<String, CommandLine> commands = new HashMap<>();
        collect("", new CommandLine(new Main()), commands);
        for (var c : commands.entrySet()) {
            Map<String, Object> want = expected.getOrDefault(c.getKey(), Map.of());
            Set<String> cliOnly = CLI_ONLY.getOrDefault(c.getKey(), Set.of());
            for (String option : want.keySet()) {
                if (c.getValue().getCommandSpec().findOption(option) == null) {
                    problems.add(c.getKey() + " " + option + ": no such option");
                }
            }
            for (OptionSpec o : c.getValue().getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp() || o.arity().max() == 0) continue; // flags: off unless given
                String shown = o.defaultValueString();
                if (shown == null || Set.of("null", "[]", "{}").contains(shown)) shown = null; // none
                String name = o.longestName();
                if (want.containsKey(name)) {
                    if (!same(want.get(name), shown)) {
                        problems.add(
                                c.getKey() + " " + name + ": shows " + shown + ", the config says " + want.get(name));
                    }
                } else if (shown != null && !cliOnly.contains(name)) {
                    problems.add(c.getKey() + " " + name + ": default " + shown + " is not read from a config");
                }
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(
                commands.keySet().containsAll(expected.keySet()),
                commands.keySet().toString());
    }

    /** A default, as picocli shows it, that means the config's value (1e-5 and 1.0E-5 are the same number). */
    private static boolean same(Object want, String shown) {
        if (shown == null) return false;
        if (want instanceof Number n) {
            try {
                return Double.parseDouble(shown) == n.doubleValue();
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return String.valueOf(want).equals(shown);
    }

    private static void collect(String prefix, CommandLine cli, Map<String, CommandLine> into) {
        for (var sub : cli.getSubcommands().entrySet()) {
            if (sub.getKey().equals("help")) continue;
            String name = prefix.isEmpty() ? sub.getKey() : prefix + " " + sub.getKey();
            into.put(name, sub.getValue());
            collect(name, sub.getValue(), into);
        }
    }

    @Test
    void optionsLeftOutBuildTheConfigDefaults() {
        TrainOptions o = new TrainOptions(DpoTrainer.Config.defaults().training(), 512);
        assertEquals(DpoTrainer.Config.defaults().training(), o.training());
        assertNull(o.lora());
    }
}
