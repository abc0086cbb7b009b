package rlcd4j.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import rlcd4j.engine.cpu.KvCache;
import rlcd4j.engine.cpu.NativeThreads;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.progress.Progress;
import rlcd4j.util.RlcdException;
import rlcd4j.util.Seeds;

/**
 * Batched decoding with a KV cache, continuously batched. Rows are left-padded so that every row's next token sits in
 * the same column of the cache; positions count from each row's first real token, so a row computes what it would
 * alone. When a row's sample ends, the next queued prompt takes its place at the next step, prefilled so that it ends
 * in that same column: the batch stays full while samples of different lengths come and go, instead of running until
 * its longest sample ends with the finished rows idle. Once the queue is empty, finished rows leave the batch.
 */
public final class Generator {
    private Generator() {}

    /** Chosen ids, their log-probabilities and why each row stopped ("eos", "stop" or "length"). */
    public record Decoded(long[][] ids, float[][] logprobs, String[] finishReasons) {}

    /**
     * The decoding loop on token ids, without a tokenizer (benchmarks, models built in code): the same code path as
     * {@link CausalLM#generate}, minus banned and stop strings, which need text.
     */
    public static Decoded generateIds(
            LlamaModel model, long[][] promptIds, GenerationConfig cfg, long padId, long eosId) {
        if (!cfg.bannedStrings().isEmpty() || !cfg.stopStrings().isEmpty()) {
            throw new IllegalArgumentException("banned and stop strings need a tokenizer; use CausalLM.generate");
        }
        for (int i = 0; i < promptIds.length; i++) checkPrompt(model, promptIds[i], cfg, "prompt " + i);
        long[] seeds = new long[promptIds.length];
        for (int i = 0; i < seeds.length; i++) seeds[i] = Seeds.rowSeed(cfg.seed(), i);
        return decodeAll(model, model.manager(), promptIds, seeds, cfg, padId, eosId, new long[0], null, null);
    }

    /** Continuations of {@code prompts}, row {@code i} drawing from a generator seeded with {@code rowSeeds[i]}. */
    static List<Generation> generate(
            LlamaModel model,
            Tokenizer tok,
            NDManager manager,
            List<String> prompts,
            GenerationConfig cfg,
            long[] rowSeeds,
            Progress progress) {
        int n = prompts.size();
        long[][] promptIds = new long[n][];
        for (int i = 0; i < n; i++) {
            promptIds[i] = tok.encode(prompts.get(i), true);
            checkPrompt(model, promptIds[i], cfg, "prompt " + i);
        }
        Decoded d = decodeAll(
                model, manager, promptIds, rowSeeds, cfg, tok.padId(), tok.eosId(), banned(tok, cfg), tok, progress);
        List<Generation> gens = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            gens.add(generation(
                    tok, cfg, prompts.get(i), promptIds[i], d.ids()[i], d.logprobs()[i], d.finishReasons()[i]));
        }
        return gens;
    }

    /** Continuous batching from a caller's queue ({@link CausalLM#generate(GenerationConfig, GenerationQueue)}). */
    static <T> void generate(
            LlamaModel model, Tokenizer tok, NDManager manager, GenerationConfig cfg, GenerationQueue<T> queue) {
        decode(model, manager, cfg, tok.padId(), tok.eosId(), banned(tok, cfg), tok, null, new Work() {
            @Override
            public Job poll() {
                GenerationQueue.Entry<T> e = queue.poll();
                if (e == null) return null;
                long[] ids = tok.encode(e.prompt(), true);
                checkPrompt(model, ids, cfg, "prompt '" + abbreviate(e.prompt()) + "'");
                return new Job(ids, e.seed(), e);
            }

            @Override
            @SuppressWarnings("unchecked")
            public void finished(List<Ended> ended) {
                List<GenerationQueue.Done<T>> done = new ArrayList<>(ended.size());
                for (Ended x : ended) {
                    GenerationQueue.Entry<T> e =
                            (GenerationQueue.Entry<T>) x.job().tag();
                    done.add(new GenerationQueue.Done<>(
                            e.tag(),
                            generation(tok, cfg, e.prompt(), x.job().promptIds(), x.ids(), x.logprobs(), x.reason())));
                }
                queue.finished(done);
            }

            @Override
            @SuppressWarnings("unchecked")
            public boolean wanted(Object tag) {
                return queue.wanted(((GenerationQueue.Entry<T>) tag).tag());
            }
        });
    }

    private static long[] banned(Tokenizer tok, GenerationConfig cfg) {
        return cfg.bannedStrings().isEmpty() ? new long[0] : tok.idsContaining(cfg.bannedStrings());
    }

    private static Generation generation(
            Tokenizer tok,
            GenerationConfig cfg,
            String prompt,
            long[] promptIds,
            long[] ids,
            float[] logprobs,
            String reason) {
        String text = tok.decode(ids);
        if ("stop".equals(reason)) text = cutAtFirst(text, cfg.stopStrings());
        return new Generation(prompt, promptIds, ids, text, tok.decodeWithSpecial(ids), logprobs, reason);
    }

    private static String abbreviate(String s) {
        String flat = s.replace("\n", " ");
        return flat.length() <= 60 ? flat : flat.substring(0, 57) + "...";
    }

    private static void checkPrompt(LlamaModel model, long[] ids, GenerationConfig cfg, String what) {
        int context = model.config().maxPositions();
        if (ids.length == 0) throw new RlcdException(what + " is empty after tokenisation");
        if (ids.length + cfg.maxNewTokens() > context) {
            throw new RlcdException(what + " has " + ids.length + " tokens; with max new tokens " + cfg.maxNewTokens()
                    + " it exceeds the model's context of " + context + " positions");
        }
    }

    /** One prompt for the decoding loop: its ids, its generator's seed and the caller's tag. */
    private record Job(long[] promptIds, long seed, Object tag) {}

    /** A sample that ended: its job, the ids and log-probabilities it generated, and why it stopped. */
    private record Ended(Job job, long[] ids, float[] logprobs, String reason) {}

    /** Where the decoding loop takes prompts from and gives samples back to. */
    private interface Work {
        /** The next prompt, or null if none is waiting now. */
        Job poll();

        /** The samples that ended at one step. */
        void finished(List<Ended> ended);

        /** False stops a running sample without reporting it. */
        boolean wanted(Object tag);
    }

    /** A fixed list of prompts, all decoded; results by index. */
    private static Decoded decodeAll(
            LlamaModel model,
            NDManager manager,
            long[][] promptIds,
            long[] seeds,
            GenerationConfig cfg,
            long padId,
            long eosId,
            long[] banned,
            Tokenizer tok,
            Progress progress) {
        int n = promptIds.length;
        long[][] ids = new long[n][];
        float[][] logprobs = new float[n][];
        String[] reasons = new String[n];
        decode(model, manager, cfg, padId, eosId, banned, tok, progress, new Work() {
            int next;

            @Override
            public Job poll() {
                return next < n ? new Job(promptIds[next], seeds[next], next++) : null;
            }

            @Override
            public void finished(List<Ended> ended) {
                for (Ended e : ended) {
                    int i = (Integer) e.job().tag();
                    ids[i] = e.ids();
                    logprobs[i] = e.logprobs();
                    reasons[i] = e.reason();
                }
            }

            @Override
            public boolean wanted(Object tag) {
                return true;
            }
        });
        return new Decoded(ids, logprobs, reasons);
    }

    /**
     * What a decoding loop did, for tests and benchmarks: decode steps; the rows they computed that were sampling
     * ({@code liveRows}) and that were free, fed padding ({@code idleRows}); prompts that joined a batch already
     * running; cache re-layouts, of which moves of the columns to the right (a joining prompt longer than the running
     * rows' history) and to the left (compactions); times rows left the batch once the queue was empty; the cache
     * columns, summed over rows, that the running rows' attention read and that their sampling rows needed (the rest
     * is masked: left padding, free rows); and the wall-clock seconds spent in prefill forwards and in the whole loop.
     */
    public record Stats(
            int steps,
            long liveRows,
            long idleRows,
            int joinedRunning,
            int relayouts,
            int movedRight,
            int movedLeft,
            int rowsLeft,
            long keyColumnsRead,
            long keyColumnsNeeded,
            double prefillSeconds,
            double seconds) {}

    private static volatile Stats lastStats;

    /** The {@link Stats} of the last decoding loop that finished, in any thread (null before the first). */
    public static Stats lastStats() {
        return lastStats;
    }

    /** A row of the running batch: its job, the cache column of its first prompt token, and what it generated. */
    private static final class Row {
        final Job job;
        int start;
        long[] ids = new long[16];
        float[] logprobs = new float[16];
        int generated;
        private IncrementalText text; // made at the first stop-string check

        Row(Job job, int start) {
            this.job = job;
            this.start = start;
        }

        void add(long id, float logprob) {
            if (generated == ids.length) {
                ids = Arrays.copyOf(ids, 2 * generated);
                logprobs = Arrays.copyOf(logprobs, 2 * generated);
            }
            ids[generated] = id;
            logprobs[generated++] = logprob;
        }

        long last() {
            return ids[generated - 1];
        }

        IncrementalText text(Tokenizer tok) {
            if (text == null) text = new IncrementalText(tok);
            return text;
        }

        Ended end(String reason) {
            return new Ended(job, Arrays.copyOf(ids, generated), Arrays.copyOf(logprobs, generated), reason);
        }
    }

    /**
     * Cache columns a batch is given beyond what its longest row can need, so that rows can join for a while before
     * the columns are compacted (a quarter, at least 32).
     */
    private static int withRoom(int need) {
        return need + Math.max(32, need / 4);
    }

    /**
     * Columns before the running rows' oldest token that the cache may carry before they are compacted away: every
     * step's attention reads them. Compacting copies the cache once, so it waits until they are a quarter of it.
     */
    private static int wasteAllowed(int used) {
        return Math.max(32, used / 4);
    }

    /**
     * The loop. Each step: (1) free rows take queued prompts (the batch grows up to {@code cfg.batchSize()} rows);
     * (2) the cache is re-laid out if it must be (joining prompts longer than the running rows' history, capacity,
     * wasted columns, or rows leaving once the queue is empty); (3) the running rows feed their last token;
     * (4) the joining prompts are prefilled so that they end in the same column; (5) every row samples its next token
     * from its own generator; rows that end are reported and their rows freed. {@code tok} is only read for stop
     * strings (null when there are none).
     */
    private static void decode(
            LlamaModel model,
            NDManager manager,
            GenerationConfig cfg,
            long padId,
            long eosId,
            long[] banned,
            Tokenizer tok,
            Progress progress,
            Work work) {
        // libtorch's grad mode is per thread and on by default in any thread but the one DJL started in (a server's
        // engine thread, a notebook's cell thread): decoding there would record autograd graphs and miss the native
        // attention and the weights-left products, which run without autograd only (docs/perf/simulation.md).
        boolean grad = JniUtils.isGradMode();
        if (grad) JniUtils.setGradMode(false);
        try {
            decodeWithoutGrad(model, manager, cfg, padId, eosId, banned, tok, progress, work);
        } finally {
            if (grad) JniUtils.setGradMode(true);
        }
    }

    private static void decodeWithoutGrad(
            LlamaModel model,
            NDManager manager,
            GenerationConfig cfg,
            long padId,
            long eosId,
            long[] banned,
            Tokenizer tok,
            Progress progress,
            Work work) {
        LlamaConfig mc = model.config();
        boolean cpu = !manager.getDevice().isGpu();
        boolean dropRows = !"false".equals(System.getProperty("rlcd4j.dropFinishedRows"));
        boolean continuous = !"false".equals(System.getProperty("rlcd4j.continuousBatching"));
        int maxNew = cfg.maxNewTokens();
        Row[] rows = new Row[0];
        KvCache cache = null;
        Sampler sampler = new Sampler(cfg, new long[0], banned, manager, mc.vocabSize());
        int steps = 0, joinedRunning = 0, relayouts = 0, movedRight = 0, movedLeft = 0, rowsLeft = 0;
        long liveRows = 0,
                idleRows = 0,
                readColumns = 0,
                neededColumns = 0,
                prefillNanos = 0,
                startNanos = System.nanoTime();
        try {
            while (true) {
                int running = 0;
                for (Row r : rows) if (r != null) running++;
                List<Job> joining = new ArrayList<>();
                // -Drlcd4j.continuousBatching=false: a batch takes new prompts only once all its rows have ended
                while (running + joining.size() < cfg.batchSize() && (continuous || running == 0)) {
                    Job j = work.poll();
                    if (j == null) break;
                    joining.add(j);
                }
                if (running == 0 && joining.isEmpty()) break;
                steps++;
                int W = 0; // the longest joining prompt
                for (Job j : joining) W = Math.max(W, j.promptIds().length);
                int[] joinAt = new int[joining.size()]; // the row each joining prompt takes
                Sampler.Result r;
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray stepped = null; // hidden state of the running rows' step [R,D]
                    if (running == 0) {
                        // A new batch of the joining prompts only, each ending in column W-1.
                        int R = joining.size(), need = W + maxNew;
                        if (cache != null && cache.rows() == R && cache.capacity() >= need) {
                            cache.relayout(identity(R), 0, 0, cache.capacity());
                        } else {
                            if (cache != null) cache.close();
                            cache = new KvCache(
                                    manager,
                                    mc.numLayers(),
                                    R,
                                    mc.numKvHeads(),
                                    withRoom(need),
                                    mc.headDim(),
                                    model.dtype());
                        }
                        rows = new Row[R];
                        sampler.remap(unfilled(R));
                        for (int k = 0; k < R; k++) joinAt[k] = k;
                    } else {
                        int L = cache.length(), M = 0; // M: the longest running row's columns
                        for (Row row : rows) if (row != null) M = Math.max(M, L - row.start);
                        int[] map; // new row -> old row, -1 for a row that joins
                        if (joining.isEmpty() && dropRows && 2 * running <= rows.length && running < rows.length) {
                            // Nothing joins (the queue is empty) and half of the batch has ended: those rows leave, so
                            // later steps compute the running ones only. Halving (16, then at most 8, ...) spreads the
                            // cost of the copy over many endings and skips 12 rows, which MKL runs more slowly than 16
                            // (docs/perf/engine.md). -Drlcd4j.dropFinishedRows=false keeps them.
                            map = new int[running];
                            for (int i = 0, j = 0; i < rows.length; i++) if (rows[i] != null) map[j++] = i;
                        } else {
                            int k = 0;
                            for (int i = 0; i < rows.length && k < joinAt.length; i++)
                                if (rows[i] == null) joinAt[k++] = i;
                            map = new int[rows.length + joinAt.length - k];
                            for (int i = 0; i < map.length; i++) map[i] = i < rows.length ? i : -1;
                            for (int i = rows.length; k < joinAt.length; i++) joinAt[k++] = i;
                        }
                        // This step's token goes in column `at`: after the running rows' history, and where the
                        // joining prompts end. Columns move only when they must or when too many go unused.
                        int target = Math.max(M, W - 1), at = L;
                        int capacity = W + maxNew > cache.capacity() ? withRoom(W + maxNew) : cache.capacity();
                        if (target > L
                                || L - target > wasteAllowed(target)
                                || L + 1 > capacity
                                || capacity != cache.capacity()) {
                            at = target;
                        }
                        boolean sameRows = isIdentity(map, rows.length);
                        joinedRunning += joinAt.length;
                        if (!sameRows || at != L || capacity != cache.capacity()) {
                            relayouts++;
                            if (at > L) movedRight++;
                            if (at < L) movedLeft++;
                            if (map.length < rows.length) rowsLeft++;
                            cache.relayout(map, M, at, capacity);
                            Row[] moved = new Row[map.length];
                            for (int i = 0; i < map.length; i++) moved[i] = map[i] < 0 ? null : rows[map[i]];
                            rows = moved;
                            for (Row row : rows) if (row != null) row.start += at - L;
                            if (!sameRows) sampler.remap(map);
                        }
                        // libtorch's attention reads every row's columns from the first, the native one each row's
                        // own; a sampling row needs them from its own start
                        int S = cache.length() + 1;
                        boolean own = model.stepsAttendNatively(manager.getDevice());
                        for (Row row : rows) {
                            if (row != null) neededColumns += S - row.start;
                            readColumns += own ? S - (row == null ? S - 1 : row.start) : S;
                        }
                        stepped = step(model, manager, rows, cache, padId, cpu);
                    }
                    for (int k = 0; k < joinAt.length; k++) {
                        Job j = joining.get(k);
                        int end = running == 0 ? W : cache.length();
                        rows[joinAt[k]] = new Row(j, end - j.promptIds().length);
                        sampler.start(joinAt[k], j.seed());
                    }
                    NDArray last = stepped; // [R,D]: each row's latest hidden state
                    if (!joining.isEmpty()) {
                        long t0 = System.nanoTime();
                        NDArray[] joined = prefill(
                                model, manager, joining, joinAt, cache, running == 0 ? W : cache.length(), padId, cpu);
                        prefillNanos += System.nanoTime() - t0; // libtorch runs ops synchronously on the CPU
                        NDArray[] perRow = new NDArray[rows.length];
                        for (int k = 0; k < joinAt.length; k++) perRow[joinAt[k]] = joined[k];
                        for (int i = 0; i < perRow.length; i++) if (perRow[i] == null) perRow[i] = stepped.get(i);
                        last = NDArrays.stack(new NDList(perRow));
                    }
                    NDArray logits = model.logits(last).toType(DataType.FLOAT32, false);
                    r = sampler.next(logits);
                }
                List<Ended> ended = new ArrayList<>();
                long tokens = 0;
                for (Row row : rows) {
                    if (row == null) idleRows++;
                    else liveRows++;
                }
                for (int i = 0; i < rows.length; i++) {
                    Row row = rows[i];
                    if (row == null) continue;
                    long id = r.ids()[i];
                    row.add(id, r.logprobs()[i]);
                    tokens++;
                    String reason = null;
                    if (id == eosId) {
                        reason = "eos";
                    } else if (!cfg.stopStrings().isEmpty()
                            && row.text(tok).reaches(row.ids, row.generated, cfg.stopStrings())) {
                        reason = "stop";
                    } else if (row.generated == maxNew) {
                        reason = "length";
                    }
                    if (reason != null) {
                        ended.add(row.end(reason));
                        tokens += maxNew - row.generated; // progress counts a sample's unused tokens as done
                        rows[i] = null;
                        sampler.free(i);
                    }
                }
                if (!ended.isEmpty()) {
                    if (cpu) NativeThreads.restore(); // the caller may run forwards of its own (RLAIF scoring)
                    work.finished(ended);
                }
                for (int i = 0; i < rows.length; i++) {
                    if (rows[i] != null && !work.wanted(rows[i].job.tag())) {
                        tokens += maxNew - rows[i].generated;
                        rows[i] = null;
                        sampler.free(i);
                    }
                }
                if (progress != null) progress.advance(tokens);
            }
            lastStats = new Stats(
                    steps,
                    liveRows,
                    idleRows,
                    joinedRunning,
                    relayouts,
                    movedRight,
                    movedLeft,
                    rowsLeft,
                    readColumns,
                    neededColumns,
                    prefillNanos / 1e9,
                    (System.nanoTime() - startNanos) / 1e9);
        } finally {
            sampler.close();
            if (cache != null) cache.close();
            if (cpu) NativeThreads.restore();
        }
    }

    /**
     * One decode step of the running rows: each feeds its last token into column {@code cache.length()}; free rows
     * and rows about to be prefilled feed padding that sees only itself. Returns the hidden states [R,D].
     */
    private static NDArray step(
            LlamaModel model, NDManager manager, Row[] rows, KvCache cache, long padId, boolean cpu) {
        int R = rows.length, at = cache.length();
        long[] ids = new long[R], pos = new long[R];
        int[] starts = new int[R];
        for (int i = 0; i < R; i++) {
            Row row = rows[i];
            ids[i] = row == null ? padId : row.last();
            pos[i] = row == null ? 0 : at - row.start;
            starts[i] = row == null ? at : row.start; // a free row's padding sees only itself
        }
        if (cpu) NativeThreads.forRows(R);
        return model.step(manager.create(ids, new Shape(R, 1)), manager.create(pos, new Shape(R, 1)), starts, cache)
                .get(":, -1, :");
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** Whether {@code map} is 0, 1, ..., n-1. */
    private static boolean isIdentity(int[] map, int n) {
        if (map.length != n) return false;
        for (int i = 0; i < n; i++) if (map[i] != i) return false;
        return true;
    }

    private static int[] unfilled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, -1);
        return a;
    }

    /**
     * Prompt rows whose lengths differ by at most this many tokens share a prefill forward, left-padded to the longest
     * of them; rows further apart get forwards of their own (CPU only; a GPU prefills the whole padded batch at once).
     * Prefill is compute-bound on a CPU, so a padding token costs as much as a real one, while an extra forward costs
     * the weights read once more, the price of some 30-40 padding tokens (docs/perf/code-figures.md#generator). HH
     * prompts in one batch range from ~40 to ~500 tokens.
     */
    static final int PREFILL_PAD_LIMIT = 32;

    /**
     * Groups of rows that share a prefill forward: rows sorted by prompt length, longest first, and cut wherever a
     * row is more than {@code padLimit} tokens shorter than its group's longest. Rows within a group keep their order.
     */
    static List<int[]> prefillGroups(long[][] promptIds, int padLimit) {
        Integer[] order = new Integer[promptIds.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Integer.compare(promptIds[b].length, promptIds[a].length));
        List<int[]> groups = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= order.length; i++) {
            if (i == order.length || (long) promptIds[order[start]].length - promptIds[order[i]].length > padLimit) {
                int[] rows = new int[i - start];
                for (int j = 0; j < rows.length; j++) rows[j] = order[start + j];
                java.util.Arrays.sort(rows);
                groups.add(rows);
                start = i;
            }
        }
        return groups;
    }

    /**
     * Prefills the joining prompts into rows {@code joinAt} of {@code cache}, each ending in column {@code end - 1},
     * a group of similar lengths per forward ({@link #prefillGroups}), and returns each one's last hidden state [D].
     * A row's positions count from its first real token, so it computes what it would alone. A new batch whose prompts
     * form one group goes straight into the cache; otherwise each group fills a cache of its own, copied in.
     */
    private static NDArray[] prefill(
            LlamaModel model,
            NDManager manager,
            List<Job> joining,
            int[] joinAt,
            KvCache cache,
            int end,
            long padId,
            boolean cpu) {
        LlamaConfig mc = model.config();
        long[][] promptIds = new long[joining.size()][];
        for (int k = 0; k < promptIds.length; k++) promptIds[k] = joining.get(k).promptIds();
        List<int[]> groups = prefillGroups(promptIds, cpu ? PREFILL_PAD_LIMIT : Integer.MAX_VALUE);
        boolean fresh = cache.length() == 0;
        NDArray[] lastOf = new NDArray[promptIds.length];
        for (int[] group : groups) {
            int g = group.length, W = 0;
            for (int k : group) W = Math.max(W, promptIds[k].length);
            long[] ids = new long[g * W], positions = new long[g * W], keyMask = new long[g * W];
            for (int j = 0; j < g; j++) {
                long[] p = promptIds[group[j]];
                int pad = W - p.length;
                for (int t = 0; t < W; t++) {
                    boolean real = t >= pad;
                    ids[j * W + t] = real ? p[t - pad] : padId;
                    positions[j * W + t] = real ? t - pad : 0;
                    keyMask[j * W + t] = real ? 1 : 0;
                }
            }
            NDArray idArr = manager.create(ids, new Shape(g, W));
            NDArray posArr = manager.create(positions, new Shape(g, W));
            NDArray mask = LlamaModel.attentionMask(manager, manager.create(keyMask, new Shape(g, W)), 0, W);
            if (cpu) NativeThreads.forRows(g * W);
            int[] dst = new int[g];
            for (int j = 0; j < g; j++) dst[j] = joinAt[group[j]];
            if (fresh && groups.size() == 1 && W == end && isIdentity(dst, cache.rows())) {
                NDArray last = model.forwardLast(idArr, posArr, mask, cache); // straight into the cache
                for (int j = 0; j < g; j++) lastOf[group[j]] = last.get(j);
                return lastOf;
            }
            try (KvCache part =
                    new KvCache(manager, mc.numLayers(), g, mc.numKvHeads(), W, mc.headDim(), model.dtype())) {
                NDArray last = model.forwardLast(idArr, posArr, mask, part); // [g,D]
                cache.storeRows(part, dst, end - W);
                for (int j = 0; j < g; j++) lastOf[group[j]] = last.get(j);
            }
        }
        if (fresh) cache.advance(end);
        return lastOf;
    }

    static String cutAtFirst(String text, List<String> stops) {
        int cut = text.length();
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at >= 0) cut = Math.min(cut, at);
        }
        return text.substring(0, cut);
    }
}
