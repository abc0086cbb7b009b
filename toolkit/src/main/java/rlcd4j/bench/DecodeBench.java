package rlcd4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.SplittableRandom;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.Generator;
import rlcd4j.engine.cpu.NativeDecoder;
import rlcd4j.engine.cpu.NativeThreads;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;

/**
 * Prefill and decode throughput of the engine on a randomly initialised model with the shapes of SmolLM2-135M,
 * through the engine's own generation loop ({@link Generator#generateIds}: KV cache, forward, logits of the last
 * position, log-softmax, greedy argmax, one host copy of the chosen ids per step). {@code bench/decode_torch.py}
 * measures the same thing in PyTorch eager; {@code bench/decode.sh} runs both.
 *
 * <p>Method, identical on both sides: median wall time of {@code reps} calls, each a fresh generation (new KV cache).
 * Prefill tokens/s = prompt length / time of generating 1 token after a {@code prefillLen}-token prompt at batch 1,
 * and 16 times that over the time at batch 16.
 * Decode tokens/s at batch B = B * (n - 1) / (time(n new tokens) - time(1 new token)) after a {@code promptLen}-token
 * prompt, i.e. the cost of the n - 1 single-token steps alone. The batch sizes take turns over the repetitions
 * (A B B A ...), so drift in the machine's speed falls on all of them alike. The JVM is warmed up first (JIT needs a
 * few hundred forwards).
 *
 * <pre>java -Dai.djl.offline=true -cp ... rlcd4j.bench.DecodeBench [reps] [newTokens] [promptLen] [prefillLen] [variant...]</pre>
 *
 * A variant is a batch size, optionally followed by {@code t} (libtorch's ops instead of the native decode step) or
 * {@code h} (the native step reading bf16 copies of the weights): e.g. {@code 1 1t 1h 16 16t}. The weights are
 * rounded to bf16 values first, as a bf16 checkpoint's are, so that every variant decodes the same model. The single
 * variant {@code prefill} measures prefill at batch 1 only, for rounds that alternate with torch's (decode.sh).
 */
public final class DecodeBench {
    private DecodeBench() {}

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int newTokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int promptLen = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int prefillLen = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        String[] variants = args.length > 4 ? Arrays.copyOfRange(args, 4, args.length) : new String[] {"1", "16"};
        boolean prefillOnly = variants.length == 1 && variants[0].equals("prefill");
        if (prefillOnly) variants = new String[0];
        int[] batches = Arrays.stream(variants)
                .mapToInt(v -> Integer.parseInt(v.replaceAll("[a-z]+$", "")))
                .toArray();

        // Before the engine loads: a short spin for idle OpenMP workers (see NativeThreads).
        NativeThreads.tuneWaiting();
        LlamaConfig config = SmolLm2Shapes.config();
        Engine engine = Engine.getInstance();
        System.out.printf(
                "engine %s %s, %s, threads: %d (%d for steps under %d rows), %s%n",
                engine.getEngineName(),
                engine.getVersion(),
                engine.defaultDevice(),
                NativeThreads.engineThreads(),
                NativeThreads.smallStepThreads(),
                NativeThreads.SMALL_STEP_ROWS,
                NativeThreads.waitingPolicy());
        System.out.println(rlcd4j.engine.cpu.MklCpuPath.apply() + "; decode attention: "
                + rlcd4j.engine.cpu.DecodeAttention.status() + "; decode steps: "
                + rlcd4j.engine.cpu.NativeDecoder.status() + "; prefill: "
                + rlcd4j.engine.cpu.NativePrefill.status() + "; weights on 2 MiB pages: "
                + rlcd4j.engine.cpu.HugePages.status());
        try (NDManager manager = NDManager.newBaseManager()) {
            LlamaModel model = LlamaModel.random(config, manager, DataType.FLOAT32, 42);
            roundToBf16(
                    model, manager); // as a bf16 checkpoint's weights are, so the "h" variants can read them in 16 bits
            SplittableRandom rng = new SplittableRandom(7);

            // Warm-up: about 400 forwards of the shapes measured below, so the JIT has compiled the Java side.
            long w0 = System.nanoTime();
            if (prefillOnly) {
                // At least 5 prefills and 10 s: with 2 cores, the JIT compiling in the background takes one from the
                // prefill's two threads, and a few prefills leave it far from done.
                for (int i = 0; i < 5 || System.nanoTime() - w0 < 10_000_000_000L; i++)
                    run(model, prompts(rng, 1, prefillLen, config), 1);
                System.out.printf("warm-up %.1f s%n", (System.nanoTime() - w0) / 1e9);
                measurePrefill(model, rng, reps, prefillLen, config);
                model.close();
                return;
            }
            for (int i = 0; i < 5; i++) run(model, prompts(rng, 1, promptLen, config), newTokens);
            for (int i = 0; i < variants.length; i++) {
                variant(model, variants[i]);
                run(model, prompts(rng, batches[i], promptLen, config), newTokens);
            }
            variant(model, "1");
            for (int i = 0; i < 3; i++) run(model, prompts(rng, 1, prefillLen, config), 1);
            run(model, prompts(rng, 16, prefillLen, config), 1);
            System.out.printf("warm-up %.1f s%n", (System.nanoTime() - w0) / 1e9);

            measurePrefill(model, rng, reps, prefillLen, config);
            double prefill16 = median(reps, () -> run(model, prompts(rng, 16, prefillLen, config), 1));
            System.out.printf(
                    "RESULT prefill_b16_tps %.2f   (batch 16, prompt %d: %.1f ms)%n",
                    16 * prefillLen / prefill16, prefillLen, prefill16 * 1e3);
            // The batch sizes take turns, in A B B A order over the repetitions, so that the machine's drift (±15%
            // within
            // minutes on a shared 2-core VM) falls on all of them alike and their ratio is fair; each figure is a
            // median.
            long[][][] p = new long[batches.length][][];
            double[][] one = new double[batches.length][reps], full = new double[batches.length][reps];
            for (int i = 0; i < batches.length; i++) p[i] = prompts(rng, batches[i], promptLen, config);
            for (int r = 0; r < reps; r++) {
                for (int j = 0; j < batches.length; j++) {
                    int i = r % 2 == 0 ? j : batches.length - 1 - j;
                    variant(model, variants[i]);
                    one[i][r] = run(model, p[i], 1);
                    full[i][r] = run(model, p[i], newTokens);
                }
            }
            for (int i = 0; i < batches.length; i++) {
                int b = batches[i];
                double o = median(one[i]), f = median(full[i]);
                double tps = b * (newTokens - 1) / (f - o);
                System.out.printf(
                        "RESULT decode_b%s_tps %.2f   (prompt %d, %d new: %.1f ms; 1 new: %.1f ms; %.2f ms/step)%n",
                        variants[i], tps, promptLen, newTokens, f * 1e3, o * 1e3, (f - o) / (newTokens - 1) * 1e3);
            }
            variant(model, "1");
            model.close();
        }
    }

    /**
     * Sets up variant {@code v}: a batch size, alone (the engine as it is: native decode steps over fp32 weights where
     * they are built) or followed by {@code t} (libtorch's ops, {@code -Drlcd4j.nativeDecode=false}) or {@code h}
     * (native decode steps over bf16 copies of the weights).
     */
    private static void variant(LlamaModel model, String v) {
        if (v.endsWith("t")) System.setProperty(NativeDecoder.PROPERTY, "false");
        else System.clearProperty(NativeDecoder.PROPERTY);
        if (!model.decodeWeights(v.endsWith("h") ? "bf16" : "fp32"))
            throw new IllegalStateException("variant " + v + ": decode steps cannot read bf16 weights here");
    }

    /** Rounds every weight to a bf16 value in place (keeping its memory, which the stacked matrices share). */
    private static void roundToBf16(LlamaModel model, NDManager manager) {
        java.util.Set<NDArray> done = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (NDArray a : model.weights().values()) {
            if (!done.add(a)) continue;
            float[] v = a.toFloatArray();
            for (int i = 0; i < v.length; i++) v[i] = Float.intBitsToFloat(Float.floatToRawIntBits(v[i]) & 0xffff0000);
            try (NDArray r = manager.create(v, a.getShape())) {
                a.set(new NDIndex("..."), r);
            }
        }
    }

    /** Prints prefill tokens/s at batch 1: the median of {@code reps} prompts of {@code len} tokens. */
    private static void measurePrefill(LlamaModel model, SplittableRandom rng, int reps, int len, LlamaConfig config) {
        double prefill = median(reps, () -> run(model, prompts(rng, 1, len, config), 1));
        System.out.printf(
                "RESULT prefill_tps %.2f   (batch 1, prompt %d: %.1f ms)%n", len / prefill, len, prefill * 1e3);
    }

    /** Seconds for one greedy generation; EOS is disabled (-1) so every row makes exactly {@code n} tokens. */
    private static double run(LlamaModel model, long[][] prompts, int n) {
        long t0 = System.nanoTime();
        Generator.Decoded d =
                Generator.generateIds(model, prompts, GenerationConfig.greedy(n).withBatchSize(prompts.length), 0, -1);
        double s = (System.nanoTime() - t0) / 1e9;
        if (d.ids()[0].length != n)
            throw new IllegalStateException("expected " + n + " tokens, got " + d.ids()[0].length);
        return s;
    }

    private static long[][] prompts(SplittableRandom rng, int batch, int len, LlamaConfig c) {
        long[][] p = new long[batch][len];
        for (long[] row : p) for (int t = 0; t < len; t++) row[t] = 1 + rng.nextInt(c.vocabSize() - 1);
        return p;
    }

    private static double median(int reps, java.util.function.DoubleSupplier f) {
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) t[i] = f.getAsDouble();
        return median(t);
    }

    private static double median(double[] times) {
        double[] t = times.clone();
        int reps = t.length;
        Arrays.sort(t);
        return reps % 2 == 1 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
    }
}
