package rlcd4j.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationBackend;
import rlcd4j.eval.JudgePrompt.Task;
import rlcd4j.util.RlcdException;

/**
 * A pairwise judge run on a local causal LM, offline. It shows the model the paper's GPT-4 prompt
 * ({@link JudgePrompt#build}) followed by an answer prefix ending in an open parenthesis (default
 * {@value #ANSWER_PREFIX}, the ending of the paper's own local-model scoring prompt, RLAIF's {@code analyze_results}),
 * reads the next-token logits of {@code A} and {@code B} (ids from {@code tokenizer.encode(x)[-1]}, as the paper's code
 * finds them), and answers A when P(A) = softmax(logit_A, logit_B)[0] is above 0.5, B below, undecided at exactly 0.5.
 * {@link Verdict#raw()} records both log-probabilities over the whole vocabulary, e.g. {@code logp(A)=-1.25 logp(B)=-2.5},
 * so a run can also be read softly ({@link Verdict#probFirst()}) and one can see how much mass the two labels get.
 *
 * <p>The model can also be an OpenAI-compatible server ({@link #LocalJudge(GenerationBackend, Config)}), which gives
 * the same log-probabilities exactly when it returns prompt log-probabilities; when it cannot score a label, the judge fails
 * with a message saying so rather than guess.
 *
 * <p>No chat template is applied: the text goes in as is, like a base model's prompt. Every result is cached in a
 * {@link VerdictCache} keyed by model name, method and prompt text, so an interrupted run resumes where it stopped.
 */
public final class LocalJudge implements Judge {
    /** What follows the judge prompt: the four newlines and answer cue of the paper's RLAIF scoring prompt. */
    public static final String ANSWER_PREFIX = "\n\n\n\nThe answer is: (";
    /** Marks cache entries made by this method (the slot an API judge fills with its system message). */
    static final String METHOD = "local-next-token-logprobs A/B";

    private static final Pattern RAW = Pattern.compile("logp\\(A\\)=(\\S+) logp\\(B\\)=(\\S+)");

    private final GenerationBackend lm;
    private final String model;
    private final Task task;
    private final String answerPrefix;
    private final VerdictCache cache;
    private final int batchSize;
    private final long idA, idB;
    private int forwardPrompts;

    /** A judge on {@code lm} with {@code config}'s settings. */
    public LocalJudge(CausalLM lm, Config config) {
        this(GenerationBackend.of(lm), config);
    }

    /** A judge on any backend, e.g. an OpenAI-compatible server serving the judge model. */
    public LocalJudge(GenerationBackend backend, Config config) {
        this.lm = Objects.requireNonNull(backend, "lm");
        Objects.requireNonNull(config, "config");
        this.model = config.model() != null ? config.model() : lm.name();
        this.task = config.task();
        this.answerPrefix = config.answerPrefix();
        this.cache = config.cache() == null ? null : new VerdictCache(config.cache());
        this.batchSize = config.batchSize();
        this.idA = lm.tokenizer().lastTokenId("A");
        this.idB = lm.tokenizer().lastTokenId("B");
        if (idA == idB)
            throw new RlcdException(
                    "local judge: the tokenizer of " + model + " maps 'A' and 'B' to the same token id " + idA);
    }

    /** A judge for a task on {@code lm}, results cached in {@code cacheFile} (null: no cache). */
    public static LocalJudge of(CausalLM lm, Task task, Path cacheFile) {
        return new LocalJudge(lm, Config.defaults().withTask(task).withCache(cacheFile));
    }

    /** The exact text the model continues for one comparison. */
    public String prompt(String instruction, String first, String second) {
        return JudgePrompt.build(task, instruction, first, second) + answerPrefix;
    }

    @Override
    public Verdict judge(String instruction, String first, String second) {
        return judgeAll(List.of(new Comparison(instruction, first, second))).get(0);
    }

    /** Cached comparisons are read from the cache; the rest go through the model together. */
    @Override
    public List<Verdict> judgeAll(List<Comparison> comparisons) {
        int n = comparisons.size();
        String[] raw = new String[n];
        String[] keys = new String[n];
        List<Integer> todo = new ArrayList<>();
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Comparison c = comparisons.get(i);
            String p = prompt(c.instruction(), c.first(), c.second());
            keys[i] = VerdictCache.key(model, METHOD, p);
            raw[i] = cache == null ? null : cache.get(keys[i]);
            if (raw[i] == null) {
                todo.add(i);
                prompts.add(p);
            }
        }
        if (!prompts.isEmpty()) {
            int context = lm.contextLength();
            for (int k = 0; k < prompts.size(); k++) {
                int len = lm.tokenizer().encode(prompts.get(k), true).length;
                if (len > context)
                    throw new RlcdException("local judge: a judge prompt has " + len + " tokens but " + model
                            + " reads at most "
                            + context + "; use a judge model with a longer context, or shorter outputs (conversation: "
                            + Outputs.abbreviate(comparisons.get(todo.get(k)).instruction()) + ")");
            }
            double[][] logp = lm.labelLogprobs(prompts, new long[] {idA, idB});
            synchronized (this) {
                forwardPrompts += prompts.size();
            }
            for (int k = 0; k < todo.size(); k++) {
                int i = todo.get(k);
                if (Double.isNaN(logp[k][0]) || Double.isNaN(logp[k][1]))
                    throw new RlcdException("local judge: " + lm.name() + " could not score label "
                            + (Double.isNaN(logp[k][0]) ? "A" : "B")
                            + " (outside the server's top-k log-probabilities; "
                            + "it returns no prompt log-probabilities); "
                            + "use a server that supports echo with logprobs (conversation: "
                            + Outputs.abbreviate(comparisons.get(i).instruction()) + ")");
                raw[i] = format(logp[k][0], logp[k][1]);
                if (cache != null) cache.put(keys[i], model, raw[i]);
            }
        }
        List<Verdict> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(verdict(raw[i]));
        return out;
    }

    /** The verdict a raw record {@code logp(A)=x logp(B)=y} stands for. */
    static Verdict verdict(String raw) {
        Matcher m = RAW.matcher(raw);
        if (!m.matches())
            throw new RlcdException("local judge: cached answer '" + Outputs.abbreviate(raw)
                    + "' is not of the form logp(A)=x logp(B)=y (was the cache written by another judge?)");
        double lA = Double.parseDouble(m.group(1)), lB = Double.parseDouble(m.group(2));
        double probFirst = probFirst(lA, lB);
        String answer = probFirst > 0.5 ? "A" : probFirst < 0.5 ? "B" : null;
        return new Verdict(answer, probFirst, raw);
    }

    /** softmax(lA, lB)[0], shifted by the max so that it cannot overflow. */
    static double probFirst(double lA, double lB) {
        double m = Math.max(lA, lB);
        double ea = Math.exp(lA - m), eb = Math.exp(lB - m);
        return ea / (ea + eb);
    }

    private static String format(double lA, double lB) {
        return String.format(Locale.ROOT, "logp(A)=%s logp(B)=%s", Double.toString(lA), Double.toString(lB));
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    /** How many prompts went through the model (cache hits excluded). */
    public synchronized int promptsScored() {
        return forwardPrompts;
    }

    @Override
    public String name() {
        return "local:" + model + "/" + task.key();
    }

    public String model() {
        return model;
    }

    public Task task() {
        return task;
    }

    public String answerPrefix() {
        return answerPrefix;
    }

    @Override
    public String toString() {
        return "LocalJudge[model=" + model + ", task=" + task.key() + ", cache="
                + (cache == null ? "none" : cache.file()) + "]";
    }

    /**
     * Settings of a {@link LocalJudge}; {@link #defaults()} are the paper's.
     *
     * @param model        the name in tables and cache keys; null: the model's name or path
     * @param task         which of the paper's questions to ask (helpful)
     * @param answerPrefix text after the judge prompt; must leave the model just before the label
     *                     ({@value LocalJudge#ANSWER_PREFIX})
     * @param cache        JSONL file of results already computed (created if missing); null: no cache
     * @param batchSize    comparisons per forward pass (8)
     */
    public record Config(String model, Task task, String answerPrefix, Path cache, int batchSize) {
        public Config {
            Objects.requireNonNull(task, "task");
            Objects.requireNonNull(answerPrefix, "answerPrefix");
            if (batchSize < 1) throw new RlcdException("local judge batch size: " + batchSize + "; expected 1 or more");
        }

        public static Config defaults() {
            return new Config(null, Task.HELPFUL, ANSWER_PREFIX, null, 8);
        }

        public Config withModel(String v) {
            return new Config(v, task, answerPrefix, cache, batchSize);
        }

        public Config withTask(Task v) {
            return new Config(model, v, answerPrefix, cache, batchSize);
        }

        public Config withAnswerPrefix(String v) {
            return new Config(model, task, v, cache, batchSize);
        }

        public Config withCache(Path v) {
            return new Config(model, task, answerPrefix, v, batchSize);
        }

        public Config withBatchSize(int v) {
            return new Config(model, task, answerPrefix, cache, v);
        }
    }
}
