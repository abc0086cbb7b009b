package rlcd4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.SplittableRandom;
import rlcd4j.engine.cpu.KvCache;
import rlcd4j.engine.cpu.NativePrefill;
import rlcd4j.engine.cpu.NativeThreads;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;

/**
 * Throughput of one long prompt at batch 1, at several lengths, on a randomly initialised model with the shapes of
 * SmolLM2-135M. Two kinds of forward:
 * <ul>
 *   <li>{@code score}: what {@code CausalLM.score} (and so {@code rlcd score}) does with the tokens: a full forward
 *       without cache, the log-probability of every next token, copied to the host;</li>
 *   <li>{@code prefill}: what generation does with a prompt: a forward into a fresh KV cache and the logits of the
 *       last position.</li>
 * </ul>
 * Variants, set between forwards: {@code new} is the engine as it is; {@code ops} runs the forward through libtorch's
 * ops, without the native prefill ({@code -Drlcd4j.nativePrefill=false}); {@code old} is the forward before the
 * long-prompt changes too ({@code -Drlcd4j.longPrefill=false} as well). Every (kind, variant, length) runs once per round, in
 * one order and then the reverse (A B C, C B A, ...), so the machine's drift falls on all of them alike; each figure
 * is a median over the rounds, after one forward of each as warm-up. Each figure comes twice: by wall time, and by the
 * process's CPU time (all threads), which on a machine shared with other work counts the work rather than the waits
 * (with one libtorch thread; idle OpenMP workers spin, so with more it counts their spinning too).
 * {@code bench/prefill_torch.py} measures the same in PyTorch eager; {@code bench/prefill.sh} runs both.
 *
 * <pre>java -Dai.djl.offline=true -cp ... rlcd4j.bench.PrefillBench [rounds] [score|prefill|both] [new,old] [length...]
 * </pre>
 */
public final class PrefillBench {
    private PrefillBench() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        String kind = args.length > 1 ? args[1] : "both";
        String[] variants = (args.length > 2 ? args[2] : "new").split(",");
        int[] lengths = args.length > 3
                ? Arrays.stream(args, 3, args.length)
                        .mapToInt(Integer::parseInt)
                        .toArray()
                : new int[] {128, 512, 1024};
        String[] kinds = kind.equals("both") ? new String[] {"score", "prefill"} : new String[] {kind};
        // every (kind, variant, length), in one list that each round runs forwards and the next backwards
        int n = kinds.length * variants.length * lengths.length;

        NativeThreads.tuneWaiting(); // before the engine loads
        LlamaConfig config = SmolLm2Shapes.config();
        Engine engine = Engine.getInstance();
        System.out.printf(
                "engine %s %s, %s, threads: %d, %s%n",
                engine.getEngineName(),
                engine.getVersion(),
                engine.defaultDevice(),
                NativeThreads.engineThreads(),
                NativeThreads.waitingPolicy());
        System.out.println(rlcd4j.engine.cpu.MklCpuPath.apply() + "; decode attention: "
                + rlcd4j.engine.cpu.DecodeAttention.status() + "; prefill: "
                + rlcd4j.engine.cpu.NativePrefill.status());
        try (NDManager manager = NDManager.newBaseManager()) {
            LlamaModel model = LlamaModel.random(config, manager, DataType.FLOAT32, 42);
            SplittableRandom rng = new SplittableRandom(7);
            long w0 = System.nanoTime();
            for (int c = 0; c < n; c++) {
                run(
                        model,
                        kinds[c / (n / kinds.length)],
                        variant(variants, c, lengths.length),
                        prompt(rng, lengths[c % lengths.length], config));
            }
            System.out.printf("warm-up %.1f s (one forward of each)%n", (System.nanoTime() - w0) / 1e9);

            double[][] s = new double[n][rounds], cpu = new double[n][rounds];
            for (int r = 0; r < rounds; r++) {
                StringBuilder line = new StringBuilder("round " + (r + 1) + ":");
                for (int j = 0; j < n; j++) {
                    int c = r % 2 == 0 ? j : n - 1 - j;
                    String k = kinds[c / (n / kinds.length)], v = variant(variants, c, lengths.length);
                    int T = lengths[c % lengths.length];
                    long c0 = processCpuNanos();
                    s[c][r] = run(model, k, v, prompt(rng, T, config));
                    cpu[c][r] = (processCpuNanos() - c0) / 1e9;
                    line.append(String.format(" %s/%s@%d %.0f (cpu %.0f)", k, v, T, s[c][r] * 1e3, cpu[c][r] * 1e3));
                }
                System.out.println(line.append(" ms; load ").append(loadAverage()));
            }
            for (int c = 0; c < n; c++) {
                int T = lengths[c % lengths.length];
                double t = median(s[c]), perToken = t / T, first = median(s[c - c % lengths.length]) / lengths[0];
                double ct = median(cpu[c]), cpuFirst = median(cpu[c - c % lengths.length]) / lengths[0];
                String name = kinds[c / (n / kinds.length)] + "_" + variant(variants, c, lengths.length) + "_" + T;
                System.out.printf(
                        "RESULT %s_tps %.2f   (%.1f ms, %.3f ms/token, %.2fx the ms/token at %d)%n",
                        name, T / t, t * 1e3, perToken * 1e3, perToken / first, lengths[0]);
                System.out.printf(
                        "RESULT %s_cpu_tps %.2f   (process CPU %.1f ms, %.3f ms/token, %.2fx the CPU"
                                + " per token at %d)%n",
                        name, T / ct, ct * 1e3, ct / T * 1e3, ct / T / cpuFirst, lengths[0]);
            }
            model.close();
        }
    }

    private static String variant(String[] variants, int c, int lengths) {
        return variants[(c / lengths) % variants.length];
    }

    /** CPU time of the whole process (all threads): on a shared machine, the work a forward took, less the waiting. */
    private static long processCpuNanos() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"))
                    .split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /** Seconds for one forward of {@code kind} over one prompt. */
    static double run(LlamaModel model, String kind, String variant, long[] prompt) {
        if (!variant.equals("new") && !variant.equals("ops") && !variant.equals("old")) {
            throw new IllegalArgumentException("variant " + variant + ": new, ops or old");
        }
        System.setProperty("rlcd4j.longPrefill", String.valueOf(!variant.equals("old")));
        System.setProperty(NativePrefill.PROPERTY, String.valueOf(variant.equals("new")));
        long t0 = System.nanoTime();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDManager m = model.manager();
            int T = prompt.length;
            NDArray ids = m.create(prompt, new Shape(1, T));
            long[] p = new long[T], key = new long[T];
            for (int t = 0; t < T; t++) {
                p[t] = t;
                key[t] = 1;
            }
            NDArray positions = m.create(p, new Shape(1, T));
            NDArray mask = LlamaModel.attentionMask(m, m.create(key, new Shape(1, T)), 0, T);
            if (kind.equals("score")) {
                NDArray hidden = model.forward(ids, positions, mask, null);
                float[] lp = model.nextTokenLogProbs(hidden, ids).toFloatArray(); // as CausalLM.score
                if (lp.length != T - 1) throw new IllegalStateException(lp.length + " log-probs for " + T + " tokens");
            } else if (kind.equals("prefill")) {
                LlamaConfig c = model.config();
                try (KvCache cache =
                        new KvCache(m, c.numLayers(), 1, c.numKvHeads(), T + 1, c.headDim(), model.dtype())) {
                    NativeThreads.forRows(T);
                    NDArray hidden = model.forwardLast(ids, positions, mask, cache); // as Generator does
                    float[] logits = model.logits(hidden).toFloatArray();
                    if (logits.length != c.vocabSize()) throw new IllegalStateException(logits.length + " logits");
                }
            } else {
                throw new IllegalArgumentException("kind " + kind + ": expected score, prefill or both");
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static long[] prompt(SplittableRandom rng, int len, LlamaConfig c) {
        long[] p = new long[len];
        for (int t = 0; t < len; t++) p[t] = 1 + rng.nextInt(c.vocabSize() - 1);
        return p;
    }

    private static double median(double[] times) {
        double[] t = times.clone();
        Arrays.sort(t);
        int n = t.length;
        return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    }
}
