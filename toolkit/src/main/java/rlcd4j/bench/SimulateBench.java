package rlcd4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PairRow;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.engine.remote.OpenAiCompletionsBackend;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.serve.OpenAiServer;
import rlcd4j.util.PostProcess;

/**
 * Simulation throughput, pairs per minute, at batch 1 vs batch 16, on the SmolLM2-135M shapes (30 layers, hidden 576,
 * 9 heads / 3 KV heads, MLP 1536, vocab 49152, tied embeddings) with random weights.
 *
 * <pre>
 * java -cp ... rlcd4j.bench.SimulateBench TOKENIZER_DIR HH_TEST_JSONL_GZ [pairs=16] [newTokens=32] [batchSizes=1,16] [stop]
 * </pre>
 *
 * With a {@code stop} string, a sample ends where its text first contains it, so samples end at different lengths
 * as real ones do (a random model writes a given letter at random steps); without one, every sample runs
 * {@code newTokens} tokens.
 *
 * A batch size may be repeated, e.g. {@code 16,1,1,16}: that order cancels a linear drift in the machine's speed, and
 * the pooled figure of each batch size (all its samples over all its time) is printed at the end. A {@code b} suffix
 * ({@code 16b}) decodes batch by batch instead of continuously ({@code -Drlcd4j.continuousBatching=false}): a batch
 * takes new prompts only once all its rows have ended. An {@code l} suffix ({@code 16l}) runs attention by libtorch's
 * ops instead of the native kernel ({@code -Drlcd4j.nativeAttention=false}). An {@code s} suffix ({@code 16s}) runs the
 * same simulation through {@code rlcd serve}: an {@link OpenAiServer} on loopback, in this JVM, over the same model,
 * decoding {@code 16} rows at once, and the OpenAI-compatible client with 32 requests in flight ({@code 16s16}: 16),
 * and prints what the server's decoding loops did.
 *
 * The tokenizer is TinyStories-656K's (2048 entries; SmolLM2's is not available offline), loaded against the model's
 * 49152-row vocabulary: every shape the model computes is SmolLM2-135M's (embedding, 49152-wide head, softmax and
 * top-k over 49152), while the prompt lengths are the TinyStories tokenizer's (longer than SmolLM2's would be, since its
 * vocabulary is small). Ids the random model samples above 2047 decode to nothing.
 *
 * Each pair is RLCD on a real harmless-base test prompt: p+ and p- through the real {@link Simulator} path (queue,
 * per-sample seeds, post-processing, pairs table), with exactly {@code newTokens} tokens per sample unless a stop
 * string is given, and one attempt per side. Post-processing is {@link PostProcess#none()}: a random model never
 * writes "Human", so the paper's filter would fail every sample, and a pair whose first side fails does not need its
 * second (never generated at batch 1, stopped part-way at batch 16: unequal work). Unfiltered, every pair is kept and
 * costs both its samples, as a real run's pairs do. The work is counted in samples, from the pairs table's
 * {@code attempts} (a sample empty after stripping fails and drops its pair), and a pair is two samples: pairs per
 * minute = samples per minute / 2.
 */
public final class SimulateBench {
    private SimulateBench() {}

    public static void main(String[] args) throws Exception {
        rlcd4j.engine.cpu.NativeThreads.tuneWaiting(); // the CLI's OpenMP waiting, before libtorch loads
        Path tokDir = Path.of(args.length > 0 ? args[0] : "../shared/models/TinyStories-656K");
        Path hh = Path.of(args.length > 1 ? args[1] : "../shared/data/hh-rlhf/harmless-base/test.jsonl.gz");
        int pairs = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int newTokens = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        List<String> batchSizes = new ArrayList<>();
        for (String s : (args.length > 4 ? args[4] : "1,16").split(",")) {
            if (!s.trim().matches("[0-9]+([bl]|s[0-9]*)?")) {
                throw new IllegalArgumentException("batch size '" + s + "': expected e.g. 16, 16b, 16l, 16s or 16s16");
            }
            batchSizes.add(s.trim());
        }

        LlamaConfig config = SmolLm2Shapes.config();
        Progress.setSink(ProgressSink.SILENT);
        NDManager root = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.random(config, root, DataType.FLOAT32, 0);
        try (CausalLM lm = CausalLM.of("SmolLM2-135M shapes (random weights)", model, Tokenizer.load(tokDir, config))) {
            // Prompts that leave room for the new tokens in the 8192 context (all of them do).
            PromptSet set = HhRlhf.read(hh).prompts("harmlessness").limit(pairs);
            long promptTokens = 0;
            for (PromptSet.Entry e : set.entries())
                promptTokens += lm.tokenizer().encode(e.prompt(), true).length;
            List<String> stops = args.length > 5 ? List.of(args[5]) : List.of();
            GenerationConfig gen =
                    GenerationConfig.simulation().withMaxNewTokens(newTokens).withStopStrings(stops);
            // No filter: a random model never starts the next turn, so the paper's filter would fail every sample, and
            // a
            // pair whose first side fails would skip its second at batch 1 and stop it part-way at batch 16. Kept,
            // every pair costs both its samples, as a real run's pairs do.
            Simulator.Options base = Simulator.Options.defaults()
                    .withGeneration(gen)
                    .withMaxAttempts(1)
                    .withPostProcess(PostProcess.none());
            System.out.printf(
                    "model: %s%nthreads: torch intra-op %s; cpus %d%npairs: %d RLCD pairs (harmless-base test rows 0..%d), "
                            + "2 samples x %s new tokens each; mean prompt %.0f tokens%n",
                    lm,
                    System.getProperty("ai.djl.pytorch.num_threads", "default"),
                    Runtime.getRuntime().availableProcessors(),
                    set.size(),
                    set.size() - 1,
                    stops.isEmpty()
                            ? String.valueOf(newTokens)
                            : "up to " + newTokens + " (stop at \"" + stops.get(0) + "\")",
                    promptTokens / (double) set.size());
            // Warm-up: JIT, banned-token table, allocator.
            Simulator.run(
                    lm,
                    set.limit(2),
                    AttributeSpec.harmlessness(),
                    Method.RLCD,
                    base.withBatchSize(4).withMaxNewTokens(4));
            double first = 0;
            java.util.Map<String, double[]> pooled = new java.util.LinkedHashMap<>(); // batch -> {samples, seconds}
            for (String size : batchSizes) {
                // "16b": batch by batch, a batch taking new prompts only once all its rows have ended (the decoder
                // before continuous batching), for a comparison in one JVM
                System.setProperty("rlcd4j.continuousBatching", String.valueOf(!size.endsWith("b")));
                // "16l": attention by libtorch's ops instead of the native kernel, for a comparison in one JVM
                System.setProperty(rlcd4j.engine.cpu.DecodeAttention.PROPERTY, String.valueOf(!size.endsWith("l")));
                int b = Integer.parseInt(size.replaceAll("[bls].*", ""));
                boolean throughServer = size.contains("s");
                // "16s" keeps twice the server's batch in flight, so that its next samples wait there when rows end;
                // "16s16" names the requests in flight
                int inFlight = size.matches(".*s[0-9]+") ? Integer.parseInt(size.replaceAll(".*s", "")) : 2 * b;
                long t0 = System.nanoTime();
                PreferencePairs t;
                OpenAiServer.DecodeStats served = null;
                if (throughServer) {
                    OpenAiServer.Options so =
                            new OpenAiServer.Options("127.0.0.1", 0, "bench", null, b, 16, 1 << 14, 64, 4 << 20);
                    OpenAiServer server = OpenAiServer.start(lm, so);
                    try (OpenAiCompletionsBackend client = OpenAiCompletionsBackend.builder()
                            .server(server.baseUrl())
                            .model("bench")
                            .tokenizer(lm.tokenizer(), lm.config().maxPositions())
                            .maxInFlight(inFlight)
                            .build()) {
                        t = Simulator.run(
                                client, set, AttributeSpec.harmlessness(), Method.RLCD, base.withBatchSize(b));
                    } finally {
                        server.close(); // its last loop has counted itself once the engine thread has stopped
                    }
                    served = server.decodeStats();
                } else {
                    t = Simulator.run(lm, set, AttributeSpec.harmlessness(), Method.RLCD, base.withBatchSize(b));
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                long samples = 0;
                for (PairRow r : t.rows()) samples += r.attempts();
                double perMin = samples / 2.0 / (secs / 60);
                if (first == 0) first = perMin;
                double[] sum = pooled.computeIfAbsent(size, k -> new double[2]);
                sum[0] += samples;
                sum[1] += secs;
                System.out.printf(
                        "batch %3s: %d samples (%d planned pairs) in %.1f s = %.2f pairs/min (%.2fx batch %s)%n",
                        size, samples, t.size(), secs, perMin, perMin / first, batchSizes.get(0));
                if (served != null) {
                    // a pair dropped for an empty sample: its other sample is decoded, but its answer is discarded on
                    // arrival and not counted in attempts, where in-process both end in one step and both count
                    System.out.printf(
                            "   server: %d requests in flight; %d samples decoded; %d decoding loops, "
                                    + "%d steps, %.1f sampling rows and %.1f idle per step; %d samples joined running "
                                    + "rows, %d cache re-layouts; prefill %.1f s of the decoder's %.1f s%n",
                            inFlight,
                            served.samples(),
                            served.loops(),
                            served.steps(),
                            served.liveRows() / (double) served.steps(),
                            served.idleRows() / (double) served.steps(),
                            served.joinedRunning(),
                            served.relayouts(),
                            served.prefillSeconds(),
                            served.seconds());
                    continue;
                }
                rlcd4j.engine.Generator.Stats st = rlcd4j.engine.Generator.lastStats();
                System.out.printf(
                        "   %d steps, %.1f sampling rows and %.1f idle per step; %d prompts joined running rows, "
                                + "%d cache re-layouts; attention read %.1f%% more key columns than needed; prefill %.1f s of the "
                                + "decoder's %.1f s%n",
                        st.steps(),
                        st.liveRows() / (double) st.steps(),
                        st.idleRows() / (double) st.steps(),
                        st.joinedRunning(),
                        st.relayouts(),
                        100.0 * (st.keyColumnsRead() - st.keyColumnsNeeded()) / Math.max(1, st.keyColumnsNeeded()),
                        st.prefillSeconds(),
                        st.seconds());
            }
            if (pooled.size() < batchSizes.size()) {
                // Repeated batch sizes (e.g. 16,1,1,16, which cancels a linear drift of the machine): pooled figures.
                double reference = 0;
                for (var e : pooled.entrySet()) {
                    double perMin = e.getValue()[0] / 2.0 / (e.getValue()[1] / 60);
                    if (reference == 0) reference = perMin;
                    System.out.printf(
                            "pooled batch %3s: %.0f samples in %.1f s = %.2f pairs/min (%.2fx batch %s)%n",
                            e.getKey(),
                            e.getValue()[0],
                            e.getValue()[1],
                            perMin,
                            perMin / reference,
                            batchSizes.get(0));
                }
            }
        }
        root.close();
        System.clearProperty(rlcd4j.engine.cpu.DecodeAttention.PROPERTY);
        System.out.println("engine: " + Engine.getInstance().getEngineName() + " "
                + Engine.getInstance().getVersion() + "; " + rlcd4j.engine.cpu.MklCpuPath.status()
                + "; decode attention: " + rlcd4j.engine.cpu.DecodeAttention.status());
    }
}
