package rlcd4j.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import rlcd4j.engine.Batch;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.GenerationQueue;
import rlcd4j.engine.Generator;
import rlcd4j.engine.cpu.NativeThreads;

/**
 * The one thread that owns the model. HTTP threads queue samples and scoring passes here and wait on their futures.
 * Work is taken in arrival order: samples with the same settings (a {@link GenerationConfig} without its seed) share
 * one continuously batched decoding loop, joining it as they arrive; a scoring pass runs between two of its steps when
 * a row is free; samples with other settings wait until that loop's rows have ended, and then run. So no sample waits
 * behind ones that arrived after it.
 */
final class EngineLoop implements AutoCloseable {
    /** Log-probabilities of a token sequence: for each position its own and its top alternatives (position 0: none). */
    record Scores(float[] logprobs, long[][] topIds, float[][] topLogprobs) {}

    private sealed interface Work permits Sample, Score {}

    private record Sample(GenerationConfig settings, String prompt, long seed, CompletableFuture<Generation> result)
            implements Work {}

    private record Score(long[] ids, int top, CompletableFuture<Scores> result) implements Work {}

    private final CausalLM lm;
    private final int batchSize;
    private final int maxWaiting;
    private final long gatherQuietNanos, gatherMaxNanos;
    private final Deque<Work> waiting = new ArrayDeque<>(); // guarded by this
    private final Thread thread;
    private volatile boolean closed;
    private volatile OpenAiServer.DecodeStats stats = OpenAiServer.DecodeStats.NONE;

    EngineLoop(CausalLM lm, int batchSize, int maxWaiting) {
        this(lm, batchSize, maxWaiting, GATHER_QUIET_NANOS, GATHER_MAX_NANOS);
    }

    /** With the gathering's quiet period and limit ({@link #gather}) given: tests lengthen them. */
    EngineLoop(CausalLM lm, int batchSize, int maxWaiting, long gatherQuietNanos, long gatherMaxNanos) {
        this.lm = lm;
        this.batchSize = batchSize;
        this.maxWaiting = maxWaiting;
        this.gatherQuietNanos = gatherQuietNanos;
        this.gatherMaxNanos = gatherMaxNanos;
        thread = new Thread(this::run, "rlcd-serve-engine");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues one sample: {@code prompt} continued with {@code settings}, its generator seeded with {@code seed}. */
    CompletableFuture<Generation> sample(String prompt, GenerationConfig settings, long seed) {
        CompletableFuture<Generation> f = new CompletableFuture<>();
        add(new Sample(settings.withSeed(0).withBatchSize(batchSize), prompt, seed, f));
        return f;
    }

    /** Queues a scoring pass over {@code ids} with the {@code top} most likely tokens at each position. */
    CompletableFuture<Scores> score(long[] ids, int top) {
        CompletableFuture<Scores> f = new CompletableFuture<>();
        add(new Score(ids, top, f));
        return f;
    }

    /** Refuses work beyond {@code count} more items when the queue is full (429), before any of it is queued. */
    synchronized void reserve(int count) {
        if (closed) throw new ApiError(503, "server_error", "the server is shutting down", null, null);
        if (waiting.size() + count > maxWaiting) {
            throw new ApiError(
                    429,
                    "rate_limit_error",
                    "the server has " + waiting.size() + " samples waiting (limit " + maxWaiting + "); retry later",
                    null,
                    "queue_full");
        }
    }

    private synchronized void add(Work w) {
        if (closed) throw new ApiError(503, "server_error", "the server is shutting down", null, null);
        waiting.addLast(w);
        notifyAll();
    }

    OpenAiServer.DecodeStats stats() {
        return stats;
    }

    synchronized int waitingCount() {
        return waiting.size();
    }

    private void run() {
        // libtorch's grad mode is per thread and on by default here: the engine's scoring passes are inference
        JniUtils.setGradMode(false);
        while (true) {
            Work head;
            synchronized (this) {
                while (waiting.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) return;
                head = waiting.peekFirst();
                if (head instanceof Score) waiting.pollFirst();
                else gather(((Sample) head).settings());
            }
            if (head instanceof Score s) {
                score(s);
            } else {
                decode(((Sample) head).settings());
            }
        }
    }

    /**
     * Before a loop starts, waits for a batch of samples with these settings: until {@code batchSize} are queued, or
     * none has arrived for {@link #gatherQuietNanos}, or {@link #gatherMaxNanos} have passed. A client's burst of
     * requests arrives over milliseconds (tens of them on a busy machine), and samples that join a running loop one
     * at a time are prefilled one at a time, where a batch is prefilled together (docs/perf/simulation.md). A fixed
     * 10 ms from the first sample took as few as 1 of a client's 32 requests on the shared development machine.
     */
    private void gather(GenerationConfig settings) {
        long start = System.nanoTime(), lastArrival = start;
        int seen = -1;
        while (!closed) {
            int same = 0;
            for (Work w : waiting) if (w instanceof Sample s && s.settings().equals(settings)) same++;
            long now = System.nanoTime();
            if (same != seen) {
                seen = same;
                lastArrival = now;
            }
            long left = Math.min(lastArrival + gatherQuietNanos, start + gatherMaxNanos) - now;
            if (same >= batchSize || left <= 0) return;
            try {
                wait(left / 1_000_000, (int) (left % 1_000_000)); // add() wakes it at each arrival
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * The gathering's quiet period (no new sample for this long ends it) and its limit: short against the decoding
     * of any batch, and a lone request waits only the quiet period.
     */
    static final long GATHER_QUIET_NANOS = 10_000_000L, GATHER_MAX_NANOS = 200_000_000L;

    /** One continuously batched loop over the waiting samples with these settings, until none is left running. */
    private void decode(GenerationConfig settings) {
        Set<Sample> running = new HashSet<>();
        int[] taken = {0};
        long[] ended = {0};
        try {
            lm.generate(settings, new GenerationQueue<Sample>() {
                @Override
                public Entry<Sample> poll() {
                    while (true) {
                        Score between;
                        synchronized (EngineLoop.this) {
                            Work w = waiting.peekFirst();
                            if (w instanceof Score sc && !closed) {
                                waiting.pollFirst();
                                between = sc;
                            } else {
                                if (!(w instanceof Sample s) || !s.settings().equals(settings) || closed) return null;
                                waiting.pollFirst();
                                if (s.result().isDone()) continue; // its request gave up before it started
                                running.add(s);
                                taken[0]++;
                                return new Entry<>(s.prompt(), s.seed(), s);
                            }
                        }
                        // a scoring pass (RLAIF's labels) runs between two steps, where the in-process simulator
                        // scores too, instead of waiting for the loop's rows to end; outside the lock, so requests
                        // still queue meanwhile
                        NativeThreads.restore();
                        score(between);
                    }
                }

                @Override
                public void finished(List<Done<Sample>> done) {
                    for (Done<Sample> d : done) {
                        ended[0]++;
                        running.remove(d.tag());
                        d.tag().result().complete(d.generation());
                    }
                }

                @Override
                public boolean wanted(Sample s) {
                    return !s.result().isDone() && !closed;
                }
            });
            // the last loop to end in this JVM: this one, unless the JVM decodes elsewhere at the same time
            Generator.Stats s = Generator.lastStats();
            if (s != null) stats = stats.plus(s, ended[0]);
        } catch (Throwable t) { // prompts are checked before they are queued; anything else fails only this loop's rows
            for (Sample s : running) s.result().completeExceptionally(t);
            if (taken[0] == 0) {
                // it failed before taking any sample: fail the first one, or the loop would meet the same head again
                synchronized (this) {
                    if (waiting.peekFirst() instanceof Sample s) {
                        waiting.pollFirst();
                        s.result().completeExceptionally(t);
                    }
                }
            }
        }
        for (Sample s : running) s.result().cancel(false); // stopped unreported: their requests had given up
    }

    private void score(Score s) {
        try {
            s.result().complete(scores(s.ids(), s.top()));
        } catch (Throwable t) { // a failed pass answers its request with 500; the loop goes on
            s.result().completeExceptionally(t);
        }
    }

    /** A forward pass over {@code ids} as one unpadded row: the path {@link CausalLM#score} takes for a row alone. */
    private Scores scores(long[] ids, int top) {
        int T = ids.length;
        float[] own = new float[T];
        long[][] topIds = new long[T][];
        float[][] topLp = new float[T][];
        own[0] = Float.NaN;
        if (T < 2) return new Scores(own, topIds, topLp);
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Batch b =
                    Batch.leftPadded(lm.manager(), List.of(ids), lm.tokenizer().padId());
            NDArray logp = lm.model()
                    .logits(lm.model().forward(b.ids(), b.positions(), b.mask(), null))
                    .toType(DataType.FLOAT32, false)
                    .logSoftmax(-1)
                    .get(0)
                    .get(":-1, :"); // [T-1, V]
            NDArray next = b.ids().get(0).get("1:").expandDims(-1);
            float[] lp = logp.gather(next, -1).squeeze(-1).toFloatArray();
            System.arraycopy(lp, 0, own, 1, T - 1);
            if (top > 0) {
                int k = (int) Math.min(top, logp.getShape().get(1));
                NDList best = logp.topK(k, -1, true, true);
                float[] v = best.get(0).toFloatArray();
                long[] i = best.get(1).toType(DataType.INT64, false).toLongArray();
                for (int t = 1; t < T; t++) {
                    topIds[t] = java.util.Arrays.copyOfRange(i, (t - 1) * k, t * k);
                    topLp[t] = java.util.Arrays.copyOfRange(v, (t - 1) * k, t * k);
                }
            }
        }
        return new Scores(own, topIds, topLp);
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            for (Work w : waiting) {
                if (w instanceof Sample s) s.result().cancel(false);
                else ((Score) w).result().cancel(false);
            }
            waiting.clear();
            notifyAll();
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
