package rlcd4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.progress.Progress;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
    public record Config(int steps, int batchSize, int seqLen, double lr, int warmupSteps, double weightDecay,
                         double maxGradNorm, long seed, int checkpointEvery, int logEvery) {
        public static Config defaults() {
            return new Config(2000, 16, 256, 2e-3, 100, 0.1, 1.0, 0, 200, 10);
        }

        public Config withSteps(int s) {
            return new Config(s, batchSize, seqLen, lr, warmupSteps, weightDecay, maxGradNorm, seed, checkpointEvery, logEvery);
        }

        public Config withBatch(int b, int len) {
            return new Config(steps, b, len, lr, warmupSteps, weightDecay, maxGradNorm, seed, checkpointEvery, logEvery);
        }

        public Config withLr(double l, int warmup) {
            return new Config(steps, batchSize, seqLen, l, warmup, weightDecay, maxGradNorm, seed, checkpointEvery, logEvery);
        }

        public Config withSeed(long s) {
            return new Config(steps, batchSize, seqLen, lr, warmupSteps, weightDecay, maxGradNorm, s, checkpointEvery, logEvery);
        }

        public Config withCheckpointEvery(int n) {
            return new Config(steps, batchSize, seqLen, lr, warmupSteps, weightDecay, maxGradNorm, seed, n, logEvery);
        }
    }

    private PretrainTrainer() {}

    /** Trains {@code lm} in place; checkpoints and the log go to {@code outDir} (resumed if it holds a checkpoint). */
    public static Table train(CausalLM lm, List<String> documents, Config cfg, Path outDir) {
        System.err.println("pretrain " + new Gson().toJson(cfg));
        Tokenizer tok = lm.tokenizer();
        long[] stream = pack(tok, documents);
        int window = cfg.seqLen() + 1;
        int windows = stream.length / window;
        if (windows < cfg.batchSize()) {
            throw new rlcd4j.RlcdException("the corpus has " + stream.length + " tokens, fewer than one batch of "
                    + cfg.batchSize() + " windows of " + window + " tokens");
        }
        LlamaModel model = lm.model();
        model.setTraining(true);
        Map<String, NDArray> params = Parameters.full(model);
        NDManager m = lm.manager();
        LrSchedule schedule = new LrSchedule(LrSchedule.Kind.COSINE, cfg.lr(), cfg.warmupSteps(), cfg.steps());
        TrainLog log;
        long start = 0;
        try (AdamW opt = new AdamW(AdamW.Config.defaults().withWeightDecay(cfg.weightDecay()), m)) {
            Path ck = Checkpoint.latest(outDir);
            if (ck != null) {
                start = Checkpoint.restore(ck, params, opt, m).get("step").getAsLong();
                log = TrainLog.resume("pretraining log", outDir.resolve("log.jsonl"), start);
                System.err.println("pretrain: resumed from " + ck);
            } else {
                log = new TrainLog("pretraining log", outDir.resolve("log.jsonl"));
            }
            NDArray causal;
            try (NDScope s = new NDScope()) {
                causal = LlamaModel.attentionMask(m, m.ones(new Shape(1, cfg.seqLen()), DataType.INT64), 0, cfg.seqLen());
                NDScope.unregister(causal);
            }
            NDArray positions = m.arange(0, cfg.seqLen(), 1, DataType.INT64).reshape(1, cfg.seqLen()).repeat(0, cfg.batchSize());
            double tokensSeen = 0;
            long t0 = System.nanoTime();
            try (Progress p = Progress.start("pretrain", cfg.steps())) {
                p.set(start);
                for (long step = start; step < cfg.steps(); step++) {
                    long[] batch = batch(stream, windows, window, cfg, step);
                    double loss;
                    try (NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        Engine.getInstance().setRandomSeed((int) (cfg.seed() * 1_000_003L + step));
                        NDArray all = m.create(batch, new Shape(cfg.batchSize(), window));
                        NDArray inputs = all.get(":, :-1"), targets = all.get(":, 1:");
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray logits = model.logits(model.forward(inputs, positions, causal, null));
                            NDArray nll = logits.logSoftmax(-1).gather(targets.expandDims(-1), -1).neg().mean();
                            gc.backward(nll);
                            loss = Finite.check("pretrain", step, "loss", nll.getFloat());
                        }
                    }
                    double norm = Gradients.clipGlobalNorm(params.values(), cfg.maxGradNorm());
                    double lr = schedule.at(step);
                    opt.step(params, lr);
                    tokensSeen += (double) cfg.batchSize() * cfg.seqLen();
                    if (step % cfg.logEvery() == 0 || step == cfg.steps() - 1) {
                        Map<String, Double> row = new LinkedHashMap<>();
                        row.put("step", (double) step);
                        row.put("loss", loss);
                        row.put("grad_norm", norm);
                        row.put("lr", lr);
                        row.put("tokens_per_s", tokensSeen / ((System.nanoTime() - t0) / 1e9));
                        log.add(row);
                    }
                    p.advance(1);
                    p.status(String.format("loss %.3f", loss));
                    if ((step + 1) % cfg.checkpointEvery() == 0 || step == cfg.steps() - 1) {
                        JsonObject st = new JsonObject();
                        st.addProperty("seed", cfg.seed());
                        Checkpoint.save(outDir, step + 1, params, opt, st, 1);
                    }
                }
            }
            causal.close();
            positions.close();
        } finally {
            model.setTraining(false);
            params.values().forEach(w -> w.setRequiresGradient(false));
        }
        return log.toTable();
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
