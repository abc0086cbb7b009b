package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaModel;
import tech.tablesaw.api.Table;

/**
 * Next-token pretraining of a language model from scratch on a corpus of documents: each document is tokenised as
 * BOS + text + EOS, all are concatenated into one stream, cut into windows of {@code seqLen + 1} tokens, and the model
 * learns to predict every token of every window (mean cross-entropy). Used to make the demo's sandbox base model.
 */
public final class PretrainTrainer {
    /**
     * @param steps            optimiser steps
     * @param batchSize        windows per step
     * @param seqLen           tokens per window
     * @param lr               peak learning rate (cosine decay after a linear warmup)
     * @param checkpointEvery  steps between checkpoints (a killed run resumes from the latest)
     */
    public record Config(
            int steps,
            int batchSize,
            int seqLen,
            double lr,
            int warmupSteps,
            double weightDecay,
            double maxGradNorm,
            long seed,
            int checkpointEvery) {
        public static Config defaults() {
            return new Config(2000, 16, 256, 2e-3, 100, 0.1, 1.0, 0, 200);
        }

        public Config withSteps(int s) {
            return new Config(s, batchSize, seqLen, lr, warmupSteps, weightDecay, maxGradNorm, seed, checkpointEvery);
        }

        public Config withBatch(int b, int len) {
            return new Config(steps, b, len, lr, warmupSteps, weightDecay, maxGradNorm, seed, checkpointEvery);
        }

        public Config withLr(double l, int warmup) {
            return new Config(steps, batchSize, seqLen, l, warmup, weightDecay, maxGradNorm, seed, checkpointEvery);
        }

        public Config withSeed(long s) {
            return new Config(steps, batchSize, seqLen, lr, warmupSteps, weightDecay, maxGradNorm, s, checkpointEvery);
        }

        public Config withCheckpointEvery(int n) {
            return new Config(steps, batchSize, seqLen, lr, warmupSteps, weightDecay, maxGradNorm, seed, n);
        }

        /** The settings as JSON (snake_case keys): logged at start and compared on resume. */
        public JsonObject toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("steps", steps);
            o.addProperty("batch_size", batchSize);
            o.addProperty("seq_len", seqLen);
            o.addProperty("learning_rate", lr);
            o.addProperty("warmup_steps", warmupSteps);
            o.addProperty("weight_decay", weightDecay);
            o.addProperty("max_grad_norm", maxGradNorm);
            o.addProperty("seed", seed);
            o.addProperty("save_every", checkpointEvery);
            return o;
        }
    }

    public static final String NAME = "pretrain";

    private PretrainTrainer() {}

    /**
     * Trains {@code lm} in place; checkpoints and the log go to {@code outDir} (resumed if it holds a checkpoint of the
     * same settings and corpus). The log has one row per step: step, loss, lr, tokens_per_s, grad_norm.
     */
    public static Table train(CausalLM lm, List<String> documents, Config cfg, Path outDir) {
        Tokenizer tok = lm.tokenizer();
        long[] stream = pack(tok, documents);
        int window = cfg.seqLen() + 1;
        int windows = stream.length / window;
        if (windows < cfg.batchSize()) {
            throw new rlcd4j.util.RlcdException("the corpus has " + stream.length + " tokens, fewer than one batch of "
                    + cfg.batchSize() + " windows of " + window + " tokens");
        }
        LlamaModel model = lm.model();
        Map<String, NDArray> params = Parameters.full(model);
        NDManager m = lm.manager();
        LrSchedule schedule = new LrSchedule(LrSchedule.Kind.COSINE, cfg.lr(), cfg.warmupSteps(), cfg.steps());
        TrainLoop.Settings settings = new TrainLoop.Settings(
                NAME,
                cfg.toJson(),
                Runs.fingerprint(documents),
                cfg.seed(),
                cfg.steps(),
                schedule,
                cfg.maxGradNorm(),
                outDir,
                cfg.checkpointEvery(),
                1,
                0);
        NDArray causal = null, positions = null;
        try (AdamW opt = new AdamW(AdamW.Config.defaults().withWeightDecay(cfg.weightDecay()), m)) {
            try (NDScope s = new NDScope()) {
                causal = LlamaModel.attentionMask(
                        m, m.ones(new Shape(1, cfg.seqLen()), DataType.INT64), 0, cfg.seqLen());
                NDScope.unregister(causal);
            }
            NDArray causalMask = causal;
            NDArray pos = m.arange(0, cfg.seqLen(), 1, DataType.INT64)
                    .reshape(1, cfg.seqLen())
                    .repeat(0, cfg.batchSize());
            positions = pos;
            long t0 = System.nanoTime();
            long[] tokensSeen = {0};
            model.setTraining(true);
            TrainLoop loop = new TrainLoop(settings, params, opt, TrainLoop.scalerFor(model.dtype()), m);
            return loop.run((step, ctx) -> {
                long[] batch = batch(stream, windows, window, cfg, step);
                double[] loss = {0};
                ctx.accumulate(1, 1, (from, to, pass) -> {
                    NDArray all = m.create(batch, new Shape(cfg.batchSize(), window));
                    NDArray inputs = all.get(":, :-1"), targets = all.get(":, 1:");
                    NDArray logits = rlcd4j.engine.Precision.toFloat32(
                            model.logits(model.forward(inputs, pos, causalMask, null)));
                    loss[0] = pass.backward(logits.logSoftmax(-1)
                            .gather(targets.expandDims(-1), -1)
                            .neg()
                            .mean());
                });
                tokensSeen[0] += (long) cfg.batchSize() * cfg.seqLen();
                Map<String, Double> row = new LinkedHashMap<>();
                row.put("loss", loss[0]);
                row.put("lr", ctx.lr());
                row.put("tokens_per_s", tokensSeen[0] / ((System.nanoTime() - t0) / 1e9));
                return row;
            });
        } finally {
            if (causal != null) causal.close();
            if (positions != null) positions.close();
            model.setTraining(false);
            params.values().forEach(w -> w.setRequiresGradient(false));
        }
    }

    /** BOS + text + EOS for every document, concatenated. */
    static long[] pack(Tokenizer tok, List<String> documents) {
        List<long[]> parts = new ArrayList<>();
        long n = 0;
        for (String d : documents) {
            long[] ids = tok.encode(d, true);
            long[] withEos = java.util.Arrays.copyOf(ids, ids.length + 1);
            withEos[ids.length] = tok.eosId();
            parts.add(withEos);
            n += withEos.length;
        }
        long[] out = new long[Math.toIntExact(n)];
        int at = 0;
        for (long[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** The windows of step {@code step}: a permutation of all windows per epoch, from (seed, epoch). */
    private static long[] batch(long[] stream, int windows, int window, Config cfg, long step) {
        long[] out = new long[cfg.batchSize() * window];
        int perEpoch = windows / cfg.batchSize();
        long epoch = step / perEpoch;
        int[] order = Runs.permutation(windows, cfg.seed() * 31 + epoch);
        int first = (int) (step % perEpoch) * cfg.batchSize();
        for (int b = 0; b < cfg.batchSize(); b++) {
            System.arraycopy(stream, order[first + b] * window, out, b * window, window);
        }
        return out;
    }
}
