package rlcd4j.contrast;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.data.SimulationLog;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationBackend;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.GenerationQueue;
import rlcd4j.engine.InProcessBackend;
import rlcd4j.engine.Tokenizer;
import rlcd4j.progress.Progress;
import rlcd4j.util.PostProcess;
import rlcd4j.util.RlaifLabel;
import rlcd4j.util.RlcdException;
import rlcd4j.util.Seeds;

/**
 * The generating half of a simulation: samples the outputs the {@link Simulation#plan plan} calls for, post-processes
 * them, retries failed sides, labels scored methods with RLAIF scoring, and writes each finished pair.
 *
 * <pre>{@code
 * PreferencePairs pairs = Simulator.run(lm, HhRlhf.read(file).prompts("harmlessness").limit(100),
 *         AttributeSpec.harmlessness(), Method.RLCD, Simulator.Options.defaults().withOutput(Path.of("pairs.jsonl")));
 * }</pre>
 *
 * <p>What happens to a prompt (the official {@code simulate_preference_data.py}, see docs/method.md §7):
 * <ol>
 *   <li>p+ and p− (for {@code rlaif}: the unmodified prompt twice) are two separate entries of one generation queue,
 *       decoded with the paper's sampling ({@link GenerationConfig#simulation()}) in a continuously batched decoder
 *       ({@link CausalLM#generate(GenerationConfig, GenerationQueue)}): up to {@code batchSize} samples run at once,
 *       and a sample that ends is handled at once and its row taken by the next in the queue. A side still running
 *       when its pair is dropped is stopped.</li>
 *   <li>Each raw sample (special tokens kept) goes through {@link PostProcess} with the model's EOS text. A side that
 *       fails is sampled again, that side only, up to {@code maxAttempts} (5, the paper's) times; then the pair is
 *       {@code dropped} with the reasons of every attempt.</li>
 *   <li>{@code rlcd}: o+ is chosen. {@code rlaif}/{@code rlcd-rescore}: outputs in the planned A/B order go into
 *       {@link RlaifPrompt}, and the model's next-token logits of {@code A} and {@code B} give P(B).</li>
 * </ol>
 *
 * <p>Seeds: sample {@code attempt} (1-based) of side {@code s} (0 = p+ / first sample, 1 = p− / second) of prompt
 * {@code id} is drawn with its own generator, seeded by {@link Seeds#sampleSeed}(seed, id, s, attempt). So a sample
 * does not depend on what it was batched with, on the batch size, on sharding, or on where a killed run was resumed.
 *
 * <p>Resume: with an output file, each pair is appended (and fsynced) as soon as it is finished; a run finds the ids
 * already there and skips them. The file must come from the same task, method and prompts (checked: a clear error
 * otherwise). Pairs in flight when a run is killed are simply redone, with the same seeds, so the same samples.
 *
 * <p>Bad input: a prompt whose tokens plus {@code maxNewTokens} do not fit the model's context, or whose RLAIF scoring
 * prompt does not fit, becomes an {@code error} row naming the prompt id and the lengths; the run goes on.
 */
public final class Simulator {
    /** Samples per side before a pair is dropped: the paper's 5. */
    public static final int PAPER_MAX_ATTEMPTS = 5;

    /**
     * How to run. {@code generation}: sampling settings (the paper's by default; its {@code seed} is ignored, see
     * {@link Seeds#sampleSeed}); {@code postProcess}: null = the paper's rules with the model's decoded EOS token;
     * {@code output}: the resumable JSONL pairs table, or null to keep the pairs in memory only;
     * {@code shardIndex}/{@code shardCount}: simulate only the prompts with {@code id % shardCount == shardIndex}.
     */
    public record Options(
            long seed,
            GenerationConfig generation,
            int maxAttempts,
            PostProcess postProcess,
            Path output,
            int shardIndex,
            int shardCount,
            int scoreBatchSize) {
        public Options {
            if (generation == null) throw new IllegalArgumentException("generation config is null");
            if (maxAttempts < 1) throw new RlcdException("max attempts must be >= 1, got " + maxAttempts);
            if (scoreBatchSize < 1) throw new RlcdException("score batch size must be >= 1, got " + scoreBatchSize);
            if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount) {
                throw new RlcdException("shard must be i/n with 0 <= i < n, got " + shardIndex + "/" + shardCount);
            }
        }

        /** The paper's settings: seed 0, {@link GenerationConfig#simulation()} in batches of 16, 5 attempts, no file. */
        public static Options defaults() {
            return new Options(0, GenerationConfig.simulation(), PAPER_MAX_ATTEMPTS, null, null, 0, 1, 1);
        }

        public Options withSeed(long s) {
            return new Options(s, generation, maxAttempts, postProcess, output, shardIndex, shardCount, scoreBatchSize);
        }

        public Options withGeneration(GenerationConfig g) {
            return new Options(seed, g, maxAttempts, postProcess, output, shardIndex, shardCount, scoreBatchSize);
        }

        public Options withBatchSize(int b) {
            return withGeneration(generation.withBatchSize(b));
        }

        public Options withMaxNewTokens(int n) {
            return withGeneration(generation.withMaxNewTokens(n));
        }

        public Options withMaxAttempts(int n) {
            return new Options(seed, generation, n, postProcess, output, shardIndex, shardCount, scoreBatchSize);
        }

        public Options withPostProcess(PostProcess p) {
            return new Options(seed, generation, maxAttempts, p, output, shardIndex, shardCount, scoreBatchSize);
        }

        public Options withOutput(Path file) {
            return new Options(
                    seed, generation, maxAttempts, postProcess, file, shardIndex, shardCount, scoreBatchSize);
        }

        public Options withShard(int index, int count) {
            return new Options(seed, generation, maxAttempts, postProcess, output, index, count, scoreBatchSize);
        }

        /**
         * Scoring prompts per forward pass. Default 1: left padding changes a row's float sums (logits move by ~1e-7),
         * so with more, a label would depend on which pairs happened to be scored together, and a resumed run would not
         * repeat an uninterrupted one exactly. Scoring is one forward pass per pair against two 300-token samples, so
         * batching it saves little on a CPU; on a GPU raise it if exact repeatability does not matter.
         */
        public Options withScoreBatchSize(int n) {
            return new Options(seed, generation, maxAttempts, postProcess, output, shardIndex, shardCount, n);
        }
    }

    private Simulator() {}

    /**
     * Simulates the pairs of {@code prompts} (its shard, when the options name one) and returns the pairs of every
     * planned prompt in prompt order (dropped and error rows included), including rows an earlier run already wrote to
     * {@code options.output()}.
     */
    public static PreferencePairs run(
            CausalLM lm, PromptSet prompts, AttributeSpec spec, Method method, Options options) {
        return run(GenerationBackend.of(lm), prompts, spec, method, options);
    }

    /**
     * As {@link #run(CausalLM, PromptSet, AttributeSpec, Method, Options)} on any backend, e.g. an OpenAI-compatible
     * server ({@link rlcd4j.engine.remote.OpenAiCompletionsBackend}): the same plan, seeds, post-processing, retries
     * and resumable output. Through a server, {@code a_logit}/{@code b_logit} hold the labels' log-probabilities (the
     * logits minus the same normaliser, so {@code p_b} is unchanged), and a label the server could not score (outside
     * its top-k, when it returns no prompt log-probabilities) makes the pair an {@code error} row saying so.
     */
    public static PreferencePairs run(
            GenerationBackend backend, PromptSet prompts, AttributeSpec spec, Method method, Options options) {
        PromptSet set = options.shardCount() == 1 ? prompts : prompts.shard(options.shardIndex(), options.shardCount());
        List<PairRow> plan = Simulation.plan(set, spec, method, options.seed());
        String name = set.task() + " " + method.id()
                + (options.shardCount() == 1 ? "" : " shard " + options.shardIndex() + "/" + options.shardCount());
        Map<Integer, PairRow> results;
        if (options.output() == null) {
            results = new Run(backend, spec, method, options, null).simulate(plan, new LinkedHashMap<>());
        } else {
            try (SimulationLog log = SimulationLog.open(options.output())) {
                Map<Integer, PairRow> existing = checkExisting(options.output(), plan, set.task(), method);
                results = new Run(backend, spec, method, options, log).simulate(plan, existing);
            }
        }
        List<PairRow> rows = new ArrayList<>(plan.size());
        for (PairRow p : plan) rows.add(results.get(p.id()));
        return PreferencePairs.of(name, rows);
    }

    /** Rows already in the output, checked against this run: same task, method and prompts; not a dry run's table. */
    static Map<Integer, PairRow> checkExisting(Path file, List<PairRow> plan, String task, Method method) {
        Map<Integer, PairRow> planned = new HashMap<>();
        for (PairRow p : plan) planned.put(p.id(), p);
        Map<Integer, PairRow> existing = new LinkedHashMap<>();
        for (PairRow r : SimulationLog.read(file)) {
            String what = file + ": row id " + r.id();
            if (r.status() == PairStatus.PLANNED) {
                throw new RlcdException(what + " is a dry run's planned row; a dry-run table cannot be resumed "
                        + "(choose another output file)");
            }
            if (!r.task().equals(task) || !r.method().equals(method.id())) {
                throw new RlcdException(what + " is task '" + r.task() + "', method '" + r.method()
                        + "' but this run is task '" + task + "', method '" + method.id()
                        + "'; resume with the same task and method or choose another output file");
            }
            PairRow p = planned.get(r.id());
            if (p == null) {
                throw new RlcdException(
                        what + " is not among this run's prompts (another prompt file, --limit or --shard?); "
                                + "resume with the same prompts or choose another output file");
            }
            if (!p.prompt().equals(r.prompt())
                    || !p.positivePrompt().equals(r.positivePrompt())
                    || !p.negativePrompt().equals(r.negativePrompt())
                    || !p.aSource().equals(r.aSource())
                    || p.instructionIndex() != r.instructionIndex()) {
                throw new RlcdException(
                        what + " was simulated from a different prompt or draw (another prompt file, seed, "
                                + "shard or description pairs?); resume with the same settings or choose another output file");
            }
            existing.put(r.id(), r);
        }
        return existing;
    }

    /** One prompt being simulated: its planned row, the two sides' outputs so far and every failed attempt's reason. */
    private static final class Pair {
        final PairRow planned;
        final String[] output = new String[2];
        final int[] attempts = new int[2];
        final List<List<String>> reasons = List.of(new ArrayList<>(), new ArrayList<>());
        boolean finished; // the pair's fate is decided: written, or waiting for scoring
        int tokens; // its longest prompt

        Pair(PairRow planned) {
            this.planned = planned;
        }

        int totalAttempts() {
            return attempts[0] + attempts[1];
        }
    }

    /** One queue entry: a side of a pair, at an attempt. */
    private record Sample(Pair pair, int side, int attempt) {}

    private static final class Run {
        final GenerationBackend backend;
        final CausalLM lm; // in-process only: RLAIF then records the raw logits, as the paper's code does
        final Tokenizer tok;
        final AttributeSpec spec;
        final Method method;
        final Options options;
        final SimulationLog log;
        final GenerationConfig generation;
        final PostProcess post;
        final int context;
        final Map<Integer, PairRow> results = new LinkedHashMap<>();
        int kept, dropped, errors;
        long resumed; // rows an earlier run wrote, left out of pairs/min
        Progress progress;

        Run(GenerationBackend backend, AttributeSpec spec, Method method, Options options, SimulationLog log) {
            this.backend = backend;
            this.lm = backend instanceof InProcessBackend local ? local.model() : null;
            this.tok = backend.tokenizer();
            this.spec = spec;
            this.method = method;
            this.options = options;
            this.log = log;
            this.generation = options.generation();
            this.post = options.postProcess() != null ? options.postProcess() : PostProcess.withEos(eosText(tok));
            this.context = backend.contextLength();
        }

        /** The EOS token as the raw sample shows it (e.g. {@code </s>}); LLaMA's when it decodes to nothing. */
        static String eosText(Tokenizer tok) {
            String s = tok.decodeWithSpecial(new long[] {tok.eosId()});
            return s.isEmpty() ? PostProcess.LLAMA_EOS : s;
        }

        Map<Integer, PairRow> simulate(List<PairRow> plan, Map<Integer, PairRow> existing) {
            results.putAll(existing);
            for (PairRow r : existing.values()) count(r);
            Deque<Sample> queue = new ArrayDeque<>();
            List<Pair> toScore = new ArrayList<>();
            try (Progress p = Progress.start("simulate " + method.id(), plan.size())) {
                progress = p;
                p.set(existing.size());
                resumed = existing.size();
                p.status(status());
                List<Pair> pending = new ArrayList<>();
                for (PairRow row : plan) {
                    if (results.containsKey(row.id())) continue;
                    Pair pair = new Pair(row);
                    String tooLong = measure(pair);
                    if (tooLong != null) {
                        finish(row.withFailure(PairStatus.ERROR, 0, tooLong));
                        continue;
                    }
                    pending.add(pair);
                }
                // Shortest prompts first: a batch is padded to its longest prompt, and on a CPU the prefill of padding
                // costs as much as that of real tokens. The order changes no sample (each has its own seed).
                pending.sort(java.util.Comparator.comparingInt(pair -> pair.tokens));
                for (Pair pair : pending) {
                    queue.addLast(new Sample(pair, 0, 1));
                    queue.addLast(new Sample(pair, 1, 1));
                }
                backend.generate(generation, new GenerationQueue<Sample>() {
                    @Override
                    public Entry<Sample> poll() {
                        while (!queue.isEmpty()) {
                            Sample s = queue.pollFirst();
                            if (s.pair().finished) continue; // the other side of a dropped pair needs no more samples
                            PairRow row = s.pair().planned;
                            return new Entry<>(
                                    s.side() == 0 ? row.positivePrompt() : row.negativePrompt(),
                                    Seeds.sampleSeed(options.seed(), row.id(), s.side(), s.attempt()),
                                    s);
                        }
                        return null;
                    }

                    @Override
                    public void finished(List<Done<Sample>> done) {
                        decide(done, queue, toScore);
                        if (toScore.size() >= generation.batchSize()) {
                            score(toScore);
                            toScore.clear();
                        }
                    }

                    @Override
                    public boolean wanted(Sample s) {
                        return !s.pair().finished; // a side still running when its pair was dropped is stopped
                    }
                });
                score(toScore);
            }
            return results;
        }

        /** Records the pair's longest prompt in tokens; returns why it cannot be generated within the context, or null. */
        String measure(Pair pair) {
            PairRow row = pair.planned;
            List<String> sides = method == Method.RLAIF
                    ? List.of(row.positivePrompt())
                    : List.of(row.positivePrompt(), row.negativePrompt());
            for (int s = 0; s < sides.size(); s++) {
                int n = tok.encode(sides.get(s), true).length;
                pair.tokens = Math.max(pair.tokens, n);
                if (n + generation.maxNewTokens() > context) {
                    String which = method == Method.RLAIF ? "the prompt" : s == 0 ? "p+" : "p-";
                    return "prompt id " + row.id() + ": " + which + " has " + n + " tokens; with "
                            + generation.maxNewTokens()
                            + " new tokens that is " + (n + generation.maxNewTokens()) + " > the model's context of "
                            + context + " positions";
                }
            }
            return null;
        }

        /** Post-processes the samples that ended at one decoding step, then decides their pairs. */
        void decide(List<GenerationQueue.Done<Sample>> done, Deque<Sample> queue, List<Pair> toScore) {
            // First every sample is counted and post-processed (so a pair's attempts include both of its samples when
            // they end at the same step), then each pair is decided.
            List<Sample> batch = new ArrayList<>(done.size());
            PostProcess.Result[] results = new PostProcess.Result[done.size()];
            for (int i = 0; i < done.size(); i++) {
                Sample s = done.get(i).tag();
                batch.add(s);
                Pair pair = s.pair();
                pair.attempts[s.side()]++;
                results[i] = post.apply(done.get(i).generation().rawText());
                if (results[i].ok()) pair.output[s.side()] = results[i].text();
                else pair.reasons.get(s.side()).add(results[i].reason());
            }
            List<Sample> retries = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                Sample s = batch.get(i);
                Pair pair = s.pair();
                PostProcess.Result r = results[i];
                if (pair.finished) continue; // decided by its other side's sample at this step
                if (!r.ok()) {
                    if (s.attempt() < options.maxAttempts()) {
                        retries.add(new Sample(pair, s.side(), s.attempt() + 1));
                    } else {
                        finish(
                                pair,
                                pair.planned.withFailure(
                                        PairStatus.DROPPED, pair.totalAttempts(), dropReason(pair, s.side())));
                    }
                    continue;
                }
                if (pair.output[0] == null || pair.output[1] == null) continue;
                if (method == Method.RLCD) {
                    finish(pair, pair.planned.withRlcdResult(pair.output[0], pair.output[1], pair.totalAttempts()));
                } else {
                    pair.finished = true; // decided: both outputs are in, scoring writes the row
                    toScore.add(pair);
                }
            }
            // retries go first, so a pair in flight finishes soon (less to redo after a kill); order never changes a
            // sample
            for (int i = retries.size() - 1; i >= 0; i--) queue.addFirst(retries.get(i));
        }

        String sideName(int side) {
            if (method == Method.RLAIF) return side == 0 ? "sample A" : "sample B";
            return side == 0 ? "positive side (p+)" : "negative side (p-)";
        }

        String dropReason(Pair pair, int side) {
            List<String> reasons = pair.reasons.get(side);
            return sideName(side) + " failed post-processing " + reasons.size() + " times: "
                    + String.join(", ", reasons);
        }

        /** RLAIF scoring of finished pairs: P(B) from the logits of "A" and "B" after the scoring prompt. */
        void score(List<Pair> pairs) {
            if (pairs.isEmpty()) return;
            long idA = tok.lastTokenId("A"), idB = tok.lastTokenId("B");
            List<String> texts = new ArrayList<>();
            List<Pair> scored = new ArrayList<>();
            List<String[]> ab = new ArrayList<>();
            for (Pair pair : pairs) {
                PairRow row = pair.planned;
                boolean posFirst = !"negative".equals(row.aSource()); // rlaif: "plain", first sample is A
                String a = posFirst ? pair.output[0] : pair.output[1];
                String b = posFirst ? pair.output[1] : pair.output[0];
                String prefix = row.responsePrefix();
                String conversation = row.prompt().endsWith(prefix)
                        ? row.prompt().substring(0, row.prompt().length() - prefix.length())
                        : row.prompt();
                String text = RlaifPrompt.build(
                        conversation,
                        spec.instruction(row.instructionIndex()),
                        RlaifPrompt.withPrefix(prefix, a),
                        RlaifPrompt.withPrefix(prefix, b));
                int n = tok.encode(text, true).length;
                if (n > context) {
                    finish(
                            pair,
                            row.withFailure(
                                    PairStatus.ERROR,
                                    pair.totalAttempts(),
                                    "prompt id " + row.id() + ": the RLAIF scoring prompt has " + n
                                            + " tokens > the model's context of " + context + " positions"));
                    continue;
                }
                texts.add(text);
                scored.add(pair);
                ab.add(new String[] {a, b});
            }
            if (texts.isEmpty()) return;
            if (lm == null) {
                scoreThroughBackend(texts, scored, ab, idA, idB);
                return;
            }
            float[][] logits = new float[texts.size()][];
            for (int from = 0; from < texts.size(); from += options.scoreBatchSize()) {
                int to = Math.min(texts.size(), from + options.scoreBatchSize());
                float[][] part = lm.nextTokenLogits(texts.subList(from, to));
                System.arraycopy(part, 0, logits, from, part.length);
            }
            for (int i = 0; i < scored.size(); i++) {
                double la = logits[i][(int) idA], lb = logits[i][(int) idB];
                Pair pair = scored.get(i);
                finish(
                        pair,
                        pair.planned.withScoredResult(
                                ab.get(i)[0], ab.get(i)[1], la, lb, RlaifLabel.probB(la, lb), pair.totalAttempts()));
            }
        }

        /** Scores through a server, all prompts at once (it runs them concurrently): log P(A), log P(B). */
        void scoreThroughBackend(List<String> texts, List<Pair> scored, List<String[]> ab, long idA, long idB) {
            double[][] lp = backend.labelLogprobs(texts, new long[] {idA, idB});
            for (int i = 0; i < scored.size(); i++) {
                Pair pair = scored.get(i);
                double la = lp[i][0], lb = lp[i][1];
                if (Double.isNaN(la) || Double.isNaN(lb)) {
                    String label = Double.isNaN(la) ? "A" : "B";
                    finish(
                            pair,
                            pair.planned.withFailure(
                                    PairStatus.ERROR,
                                    pair.totalAttempts(),
                                    "prompt id "
                                            + pair.planned.id() + ": the server could not score label " + label
                                            + " (outside its "
                                            + "top-k log-probabilities; it returns no prompt log-probabilities)"));
                    continue;
                }
                finish(
                        pair,
                        pair.planned.withScoredResult(
                                ab.get(i)[0], ab.get(i)[1], la, lb, RlaifLabel.probB(la, lb), pair.totalAttempts()));
            }
        }

        void finish(Pair pair, PairRow row) {
            pair.finished = true;
            finish(row);
        }

        void finish(PairRow row) {
            if (log != null) log.append(row);
            results.put(row.id(), row);
            count(row);
            progress.advance(1);
            progress.status(status());
        }

        void count(PairRow r) {
            switch (r.status()) {
                case OK -> kept++;
                case DROPPED -> dropped++;
                default -> errors++;
            }
        }

        String status() {
            String s = "kept " + kept + ", dropped " + dropped + (errors == 0 ? "" : ", errors " + errors);
            String server = backend.status();
            if (server.isEmpty() || progress == null) return s;
            double minutes = progress.elapsedSeconds() / 60;
            long pairs = progress.done() - resumed;
            return s
                    + String.format(java.util.Locale.ROOT, ", %.1f pairs/min, ", minutes > 0 ? pairs / minutes : 0.0)
                    + server;
        }
    }
}
