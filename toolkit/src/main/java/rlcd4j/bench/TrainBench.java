package rlcd4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import rlcd4j.engine.Batch;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.train.AdamW;
import rlcd4j.train.LossScaler;
import rlcd4j.train.LrSchedule;
import rlcd4j.train.Parameters;
import rlcd4j.train.TrainLoop;

/**
 * Training throughput on the SmolLM2-135M shapes with random weights: forward, backward, global-norm clip and AdamW
 * through the trainers' {@link TrainLoop},
 * full fine-tuning or LoRA (r 8 on q and v). The same step as {@code bench/train_torch.py}; {@code bench/train.sh}
 * runs both. Prints one line: {@code rlcd4j <mode> B=.. T=.. step_ms=.. fwd_ms=.. bwd_ms=.. opt_ms=.. tokens_per_s=..}
 * with medians over the timed steps, and the process's resident memory after each step when {@code --rss} is given.
 *
 * <pre>java -cp toolkit.jar rlcd4j.bench.TrainBench full 4 128 10 3</pre>
 */
public final class TrainBench {
    private TrainBench() {}

    public static void main(String[] args) {
        rlcd4j.engine.cpu.NativeThreads.tuneWaiting(); // the CLI's OpenMP waiting, before libtorch loads
        String mode = args.length > 0 ? args[0] : "full";
        int B = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int T = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        int warmup = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        boolean rss = Arrays.asList(args).contains("--rss");
        LlamaConfig c = SmolLm2Shapes.config();
        try (NDManager root = NDManager.newBaseManager()) {
            LlamaModel model = LlamaModel.random(c, root, DataType.FLOAT32, 0);
            Map<String, NDArray> params;
            if (mode.equals("lora")) {
                LoraAdapter a = LoraAdapter.create(
                        c, new LoraAdapter.Config(8, 16, 0.0, java.util.Set.of("q_proj", "v_proj")), root, 1);
                model.setAdapter(a);
                params = Parameters.lora(a, DataType.FLOAT32);
            } else {
                params = Parameters.full(model);
            }
            model.setTraining(true);
            SplittableRandom rng = new SplittableRandom(0);
            List<long[]> rows = new ArrayList<>();
            for (int b = 0; b < B; b++) {
                long[] r = new long[T + 1];
                for (int t = 0; t <= T; t++) r[t] = rng.nextInt(c.vocabSize());
                rows.add(r);
            }
            long[] inp = new long[B * T], tgt = new long[B * T];
            for (int b = 0; b < B; b++) {
                System.arraycopy(rows.get(b), 0, inp, b * T, T);
                System.arraycopy(rows.get(b), 1, tgt, b * T, T);
            }
            List<long[]> inputs = new ArrayList<>();
            for (int b = 0; b < B; b++) inputs.add(Arrays.copyOf(rows.get(b), T));
            Batch batch = Batch.leftPadded(root, inputs, 0);
            NDArray target = root.create(tgt, new Shape(B, T, 1));
            double[] step = new double[steps],
                    fwd = new double[steps],
                    bwd = new double[steps],
                    opt = new double[steps];
            // The trainers' own loop (TrainLoop: accumulation, the Inf/NaN check, clipping, AdamW), so its cost is
            // what this measures; the loss is the pretraining loss, as before.
            int total = warmup + steps;
            long[] t = new long[3];
            TrainLoop.Settings settings = new TrainLoop.Settings(
                    "train-bench",
                    new com.google.gson.JsonObject(),
                    "random",
                    0,
                    total,
                    new LrSchedule(LrSchedule.Kind.CONSTANT, 1e-4, 0, total),
                    1.0,
                    null,
                    total,
                    0,
                    0);
            try (AdamW adam = new AdamW(AdamW.Config.defaults(), root)) {
                TrainLoop loop = new TrainLoop(settings, params, adam, LossScaler.disabled(), root);
                loop.addListener(new TrainLoop.Listener() {
                    @Override
                    public void onStep(long done, Map<String, Double> row) {
                        long t3 = System.nanoTime();
                        int s = (int) done - 1 - warmup;
                        if (s >= 0) {
                            step[s] = (t3 - t[0]) / 1e6;
                            fwd[s] = (t[1] - t[0]) / 1e6;
                            bwd[s] = (t[2] - t[1]) / 1e6;
                            opt[s] = (t3 - t[2]) / 1e6;
                        }
                        if (rss)
                            System.out.printf("rss step=%d loss=%.4f rss_mb=%d%n", s, row.get("loss"), residentMb());
                    }
                });
                loop.run((s, ctx) -> {
                    t[0] = System.nanoTime();
                    double[] loss = {0};
                    ctx.accumulate(1, 1, (from, to, pass) -> {
                        NDArray logits =
                                model.logits(model.forward(batch.ids(), batch.positions(), batch.mask(), null));
                        NDArray nll =
                                logits.logSoftmax(-1).gather(target, -1).neg().mean();
                        nll.getFloat(); // forces the forward
                        t[1] = System.nanoTime();
                        loss[0] = pass.backward(nll);
                        t[2] = System.nanoTime();
                    });
                    return Map.of("loss", loss[0]);
                });
            }
            double ms = median(step);
            System.out.printf(
                    "rlcd4j %s B=%d T=%d threads=%s step_ms=%.1f fwd_ms=%.1f bwd_ms=%.1f opt_ms=%.1f tokens_per_s=%.1f%n",
                    mode,
                    B,
                    T,
                    System.getProperty("ai.djl.pytorch.num_threads", "default"),
                    ms,
                    median(fwd),
                    median(bwd),
                    median(opt),
                    B * T / (ms / 1000));
        }
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** VmRSS of this process from /proc (Linux). */
    static long residentMb() {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (java.io.IOException e) {
            return -1;
        }
        return -1;
    }
}
