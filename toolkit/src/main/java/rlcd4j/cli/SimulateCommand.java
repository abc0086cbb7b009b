package rlcd4j.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulation;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.BadLine;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.data.PromptSource;
import rlcd4j.data.SimulationLog;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.remote.OpenAiCompletionsBackend;
import rlcd4j.hub.HfHub;
import rlcd4j.util.RlcdException;

/**
 * {@code rlcd simulate}: simulate preference pairs with RLCD, RLAIF or RLCD-Rescore.
 * <pre>
 * rlcd simulate --task harmlessness --method rlcd --model path/or/org/repo --prompts hh:harmless-base/train --out pairs.jsonl
 * rlcd simulate --task harmlessness --method rlcd --prompts harmless-base/train.jsonl.gz --out pairs.jsonl --dry-run
 * rlcd simulate --task harmlessness --method rlaif --model huggyllama/llama-7b --server http://gpu1:8000/v1 \
 *               --server http://gpu2:8000/v1 --prompts hh:harmless-base/train --out pairs.jsonl
 * </pre>
 * {@code --dry-run} writes the pairs table with the prompt columns filled (p+, p-, pair and instruction indices) and no
 * generation. Otherwise {@link Simulator} generates with {@code --model}; an existing {@code --out} is resumed.
 */
@Command(
        name = "simulate",
        mixinStandardHelpOptions = true,
        description = "Simulate preference pairs (RLCD, RLAIF, RLCD-Rescore) into a resumable pairs table (JSONL).")
public class SimulateCommand implements Callable<Integer> {
    private static final Simulator.Options DEFAULTS = Simulator.Options.defaults();

    @Option(names = "--task", required = true, description = "harmlessness | helpfulness | outline")
    String task;

    @Option(names = "--method", required = true, description = "rlcd | rlaif | rlcd-rescore")
    String method;

    @Option(
            names = "--model",
            description = "Model directory or Hugging Face repo id (needed unless --dry-run; "
                    + "with --server, its tokenizer).")
    String model;

    @Option(
            names = "--prompts",
            required = true,
            description = "Prompt file (.jsonl/.jsonl.gz: HH-RLHF rows, {\"premise\":...} or {\"prompt\":...} lines), "
                    + "or hh:SUBSET/SPLIT (Anthropic/hh-rlhf, e.g. hh:harmless-base/train), "
                    + "or hf:ORG/NAME[@REV]/PATH (a Hugging Face dataset file); Hub files go through the HF cache.")
    String prompts;

    @Option(names = "--out", required = true, description = "Output pairs table (JSONL); an existing one is resumed.")
    Path out;

    @Option(names = "--limit", description = "Use only the first N prompts.")
    Integer limit;

    @Option(names = "--shard", description = "i/n: simulate only the prompts with id %% n == i.")
    String shard;

    @Option(
            names = "--seed",
            description = "Seed of the description-pair draws (default: ${DEFAULT-VALUE}, the paper's) and of the "
                    + "samples.")
    long seed = DEFAULTS.seed();

    @Option(names = "--dry-run", description = "Write the table with the prompt columns filled; generate nothing.")
    boolean dryRun;

    @Option(
            names = "--descriptions",
            description = "Own description pairs (TSV: header positive<TAB>negative) instead of the task's.")
    Path descriptions;

    @Option(names = "--instructions", description = "Own RLAIF instructions (one per line) to go with --descriptions.")
    Path instructions;

    @Option(names = "--strict", description = "Stop at the first bad prompt line instead of skipping it.")
    boolean strict;

    @Option(names = "--batch-size", description = "Samples decoded together (default: ${DEFAULT-VALUE}, the paper's).")
    int batchSize = DEFAULTS.generation().batchSize();

    @Option(names = "--max-new-tokens", description = "New tokens per sample (default: ${DEFAULT-VALUE}, the paper's).")
    int maxNewTokens = DEFAULTS.generation().maxNewTokens();

    @Option(
            names = "--max-attempts",
            description = "Samples per side before a pair is dropped (default: ${DEFAULT-VALUE}, the paper's).")
    int maxAttempts = DEFAULTS.maxAttempts();

    @Option(
            names = "--score-batch-size",
            description = "RLAIF scoring prompts per forward pass (default: ${DEFAULT-VALUE}: labels never depend on "
                    + "batching).")
    int scoreBatchSize = DEFAULTS.scoreBatchSize();

    @Mixin
    ServerOptions server = new ServerOptions();

    PrintStream outStream = System.out;
    PrintStream errStream = System.err;
    HfHub hub; // null: HfHub.fromEnvironment(); tests set their own cache

    @Override
    public Integer call() {
        String canonicalTask = AttributeSpec.canonicalTask(task);
        Method m = Method.parse(method);
        AttributeSpec spec = descriptions != null
                ? AttributeSpec.load(canonicalTask, descriptions, instructions)
                : AttributeSpec.forTask(canonicalTask);
        if (descriptions == null && instructions != null) {
            throw new RlcdException(
                    "--instructions needs --descriptions (the built-in specs bring their own instructions)");
        }
        if (!dryRun && (model == null || model.isBlank())) {
            throw new RlcdException("simulate needs --model M to generate (or --dry-run to only build the prompts)");
        }

        if (batchSize < 1) throw new RlcdException("--batch-size must be >= 1, got " + batchSize);
        if (maxNewTokens < 1) throw new RlcdException("--max-new-tokens must be >= 1, got " + maxNewTokens);
        HfHub h = hub != null ? hub : HfHub.fromEnvironment();
        PromptSet set = PromptSource.load(prompts, canonicalTask, strict, h);
        for (BadLine b : set.skipped()) errStream.println("skipped " + b);
        if (limit != null) set = set.limit(limit);
        int[] s = shard == null ? new int[] {0, 1} : PromptSet.parseShard(shard);

        if (!dryRun) {
            Simulator.Options options = DEFAULTS.withSeed(seed)
                    .withBatchSize(batchSize)
                    .withMaxNewTokens(maxNewTokens)
                    .withMaxAttempts(maxAttempts)
                    .withShard(s[0], s[1])
                    .withScoreBatchSize(scoreBatchSize)
                    .withOutput(out);
            PreferencePairs t;
            if (server.remote()) {
                try (OpenAiCompletionsBackend backend = server.backend(model, h)) {
                    t = Simulator.run(backend, set, spec, m, options);
                }
            } else {
                try (CausalLM lm = CausalLM.load(model, CausalLM.Options.defaults(), h)) {
                    t = Simulator.run(lm, set, spec, m, options);
                }
            }
            outStream.println(m.id() + " (" + canonicalTask + ", seed " + seed + "): " + t.size() + " pairs in " + out
                    + ": " + t.count(PairStatus.OK) + " ok, " + t.count(PairStatus.DROPPED)
                    + " dropped, " + t.count(PairStatus.ERROR) + " errors"
                    + (set.skipped().isEmpty() ? "" : "; " + set.skipped().size() + " bad prompt line(s) skipped"));
            return 0;
        }
        set = set.shard(s[0], s[1]);
        List<PairRow> plan = Simulation.plan(set, spec, m, seed);
        try {
            if (Files.exists(out) && Files.size(out) > 0) {
                throw new RlcdException(out + ": already exists; a dry run does not write into an existing pairs table "
                        + "(choose another --out or delete it)");
            }
        } catch (java.io.IOException e) {
            throw new RlcdException(out + ": " + e.getMessage(), e);
        }
        try (SimulationLog log = SimulationLog.open(out)) {
            log.appendAll(plan);
        }
        outStream.println("dry run: wrote " + plan.size() + " planned " + m.id() + " rows (" + canonicalTask + ", seed "
                + seed + ") to " + out
                + (set.skipped().isEmpty() ? "" : "; " + set.skipped().size() + " bad prompt line(s) skipped"));
        return 0;
    }
}
