package rlcd4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.engine.CausalLM;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.train.SftTrainer;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Does native memory stay flat over a long training run? Runs {@code steps} SFT steps (LoRA or full) on a small model
 * and samples the process RSS ({@code VmRSS} in /proc/self/status) every 50 steps through the progress reports, then
 * prints the series and the least-squares slope over the second half (after allocator warm-up).
 *
 * With {@code gc}, a full GC runs before each sample, so the series shows live memory only: DJL keeps every array made
 * from Java data on a direct buffer that only a GC returns, which makes plain RSS climb while the heap is quiet.
 *
 * <pre>java -cp ... rlcd4j.bench.TrainMemoryBench MODEL_DIR [steps=1000] [lora|full] [gc]</pre>
 */
public final class TrainMemoryBench {
    public static void main(String[] args) {
        rlcd4j.engine.cpu.NativeThreads.tuneWaiting(); // the CLI's OpenMP waiting, before libtorch loads
        Path model = Path.of(args[0]);
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        boolean lora = args.length <= 2 || args[2].equals("lora");
        boolean gc = args.length > 3 && args[3].equals("gc");
        List<long[]> samples = new ArrayList<>(); // {step, rss kB}
        long t0 = System.nanoTime();
        Progress.setSink(new ProgressSink() {
            public void started(Progress p) {}

            public void updated(Progress p) {
                if (p.label().equals(SftTrainer.NAME)
                        && p.status().isEmpty() == false
                        && p.done() % 50 == 0
                        && (samples.isEmpty() || samples.get(samples.size() - 1)[0] != p.done())) {
                    if (gc) System.gc();
                    samples.add(new long[] {p.done(), rssKb()});
                }
            }

            public void finished(Progress p) {}
        });
        // 64 short examples, batch 4: each epoch is 16 steps, so `steps` steps take steps/16 epochs.
        List<String> prompts = new ArrayList<>(), responses = new ArrayList<>();
        String[] names = {"Tom", "Lily", "Sam", "Mia"}, things = {"dog", "cat", "ball", "tree"};
        for (int i = 0; i < 64; i++) {
            prompts.add("Once upon a time, " + names[i % 4] + " saw a " + things[(i / 4) % 4] + ".");
            responses.add(names[i % 4] + " was happy and played with the " + things[(i / 4) % 4] + " all day.");
        }
        Table data = Table.create(
                "bench", StringColumn.create("prompt", prompts), StringColumn.create("response", responses));
        SftTrainer.Config c = SftTrainer.Config.defaults()
                .withLearningRate(1e-4)
                .withBatchSize(4)
                .withMicroBatchSize(2)
                .withEpochs((steps + 15) / 16)
                .withMaxLength(64)
                .withLora(lora ? rlcd4j.train.PreferenceModelTrainer.lora(8, 16, 0.05, "all") : null);
        long before = rssKb();
        try (CausalLM lm = CausalLM.load(model)) {
            SftTrainer.Result r = new SftTrainer(c).train(lm, data, null);
            if (r.adapter() != null) r.adapter().close();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
                "model %s, %s%s, %d steps in %.1f s; RSS before load %d kB%n",
                model.getFileName(),
                lora ? "LoRA r8 all targets" : "full fine-tuning",
                gc ? ", GC before each sample" : "",
                (samples.isEmpty() ? 0 : samples.get(samples.size() - 1)[0]),
                secs,
                before);
        System.out.println("step\trss_kB");
        for (long[] s : samples) System.out.println(s[0] + "\t" + s[1]);
        List<long[]> half = samples.subList(samples.size() / 2, samples.size());
        double mx = half.stream().mapToDouble(s -> s[0]).average().orElse(0),
                my = half.stream().mapToDouble(s -> s[1]).average().orElse(0);
        double sxy = 0, sxx = 0;
        for (long[] s : half) {
            sxy += (s[0] - mx) * (s[1] - my);
            sxx += (s[0] - mx) * (s[0] - mx);
        }
        System.out.printf(
                "slope over the second half: %.3f kB/step (%.1f kB per 1000 steps); first sample %d kB, last %d kB, max %d kB%n",
                sxx == 0 ? 0 : sxy / sxx,
                sxx == 0 ? 0 : 1000 * sxy / sxx,
                samples.get(0)[1],
                samples.get(samples.size() - 1)[1],
                samples.stream().mapToLong(s -> s[1]).max().orElse(0));
    }

    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return -1;
    }
}
