package rlcd4j.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import rlcd4j.RlcdException;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.progress.Progress;

import java.util.ArrayList;
import java.util.List;

/**
 * Batched decoding with a KV cache. Prompts are left-padded so every row's next token sits in the last column;
 * positions count from each row's first real token, so a padded row computes what it would alone.
 */
public final class Generator {
    private Generator() {}

    /** Chosen ids, their log-probabilities and why each row stopped ("eos", "stop" or "length"). */
    public record Decoded(long[][] ids, float[][] logprobs, String[] finishReasons) {}

    /**
     * The decoding loop on token ids, without a tokenizer (benchmarks, models built in code): the same code path as
     * {@link CausalLM#generate}, minus banned and stop strings, which need text.
     */
    public static Decoded generateIds(LlamaModel model, long[][] promptIds, GenerationConfig cfg, long padId, long eosId) {
        if (!cfg.bannedStrings().isEmpty() || !cfg.stopStrings().isEmpty()) {
            throw new IllegalArgumentException("banned and stop strings need a tokenizer; use CausalLM.generate");
        }
        for (int i = 0; i < promptIds.length; i++) checkPrompt(model, promptIds[i], cfg, i);
        long[] seeds = new long[promptIds.length];
        for (int i = 0; i < seeds.length; i++) seeds[i] = Sampler.rowSeed(cfg.seed(), i);
        return decode(model, model.manager(), promptIds, cfg, padId, eosId, new long[0], null, seeds, null);
    }

    static List<Generation> generate(LlamaModel model, Tokenizer tok, NDManager manager, List<String> prompts,
                                     GenerationConfig cfg, long rowOffset, long[] rowSeeds, Progress progress) {
        int B = prompts.size();
        long[][] promptIds = new long[B][];
        for (int i = 0; i < B; i++) {
            promptIds[i] = tok.encode(prompts.get(i), true);
            checkPrompt(model, promptIds[i], cfg, rowOffset + i);
        }
        long[] banned = cfg.bannedStrings().isEmpty() ? new long[0] : tok.idsContaining(cfg.bannedStrings());
        Decoded d = decode(model, manager, promptIds, cfg, tok.padId(), tok.eosId(), banned, tok, rowSeeds, progress);
        List<Generation> gens = new ArrayList<>(B);
        for (int i = 0; i < B; i++) {
            long[] ids = d.ids()[i];
            String text = tok.decode(ids);
            String raw = tok.decodeWithSpecial(ids);
            if ("stop".equals(d.finishReasons()[i])) text = cutAtFirst(text, cfg.stopStrings());
            gens.add(new Generation(prompts.get(i), promptIds[i], ids, text, raw, d.logprobs()[i], d.finishReasons()[i]));
        }
        return gens;
    }

    private static void checkPrompt(LlamaModel model, long[] ids, GenerationConfig cfg, long row) {
        int context = model.config().maxPositions();
        if (ids.length == 0) throw new RlcdException("prompt " + row + " is empty after tokenisation");
        if (ids.length + cfg.maxNewTokens() > context) {
            throw new RlcdException("prompt " + row + " has " + ids.length + " tokens; with max new tokens "
                    + cfg.maxNewTokens() + " it exceeds the model's context of " + context + " positions");
        }
    }

    /** The loop itself; {@code tok} is only read for stop strings (null when there are none). */
    private static Decoded decode(LlamaModel model, NDManager manager, long[][] promptIds, GenerationConfig cfg, long padId,
                                  long eosId, long[] banned, Tokenizer tok, long[] rowSeeds, Progress progress) {
        int B = promptIds.length;
        int P = 0;
        for (long[] p : promptIds) P = Math.max(P, p.length);
        int capacity = P + cfg.maxNewTokens();
        boolean padded = false;
        for (long[] p : promptIds) padded |= p.length < P;
        long[] keyMask = new long[B * capacity]; // 1 where a row has a real token, for the decode steps' masks
        long[] nextPos = new long[B];
        for (int i = 0; i < B; i++) {
            for (int t = P - promptIds[i].length; t < P; t++) keyMask[i * capacity + t] = 1;
            nextPos[i] = promptIds[i].length;
        }
        boolean cpu = !manager.getDevice().isGpu();
        Sampler sampler = new Sampler(cfg, rowSeeds, banned, manager, model.config().vocabSize());
        List<List<Long>> out = new ArrayList<>();
        List<List<Float>> outLogp = new ArrayList<>();
        for (int i = 0; i < B; i++) {
            out.add(new ArrayList<>());
            outLogp.add(new ArrayList<>());
        }
        String[] finish = new String[B];
        int live = B;
        int[] active = new int[B]; // the prompt row of each row of the running batch; finished rows are dropped
        for (int i = 0; i < B; i++) active[i] = i;
        try (KvCache cache = new KvCache(manager, model.config().numLayers(), B, model.config().numKvHeads(), capacity,
                model.config().headDim(), model.dtype())) {
            long[] stepIds = null;
            long[] stepPos = null;
            for (int step = 0; step < cfg.maxNewTokens() && live > 0; step++) {
                int rows = active.length;
                Sampler.Result r;
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray last; // hidden state of each row's latest position [rows,D]
                    if (step == 0) {
                        last = prefill(model, manager, promptIds, P, padId, cache, cpu);
                    } else {
                        int S = cache.length() + 1;
                        NDArray ids = manager.create(stepIds, new Shape(rows, 1));
                        NDArray pos = manager.create(stepPos, new Shape(rows, 1));
                        NDArray attn = null; // a single-token step over unpadded rows sees every key: no mask needed
                        if (padded) {
                            long[] mask = new long[rows * S];
                            for (int i = 0; i < rows; i++) System.arraycopy(keyMask, active[i] * capacity, mask, i * S, S);
                            attn = LlamaModel.attentionMask(manager, manager.create(mask, new Shape(rows, S)), S - 1, 1);
                        }
                        if (cpu) NativeThreads.forRows(rows);
                        last = model.forward(ids, pos, attn, cache).get(":, -1, :");
                    }
                    NDArray logits = model.logits(last).toType(DataType.FLOAT32, false);
                    r = sampler.next(logits);
                }
                int col = P + step;
                stepIds = new long[rows];
                stepPos = new long[rows];
                for (int i = 0; i < rows; i++) {
                    int row = active[i];
                    keyMask[row * capacity + col] = 1;
                    stepPos[i] = nextPos[row]++;
                    if (finish[row] != null) { // finished, not yet dropped: fed padding, its outputs unused
                        stepIds[i] = padId;
                        continue;
                    }
                    long id = r.ids()[i];
                    stepIds[i] = id;
                    out.get(row).add(id);
                    outLogp.get(row).add(r.logprobs()[i]);
                    if (id == eosId) {
                        finish[row] = "eos";
                    } else if (!cfg.stopStrings().isEmpty()) {
                        String text = tok.decode(toLongs(out.get(row)));
                        for (String s : cfg.stopStrings()) {
                            if (text.contains(s)) {
                                finish[row] = "stop";
                                break;
                            }
                        }
                    }
                    if (finish[row] != null) live--;
                }
                if (live > 0 && 2 * live <= rows && step + 1 < cfg.maxNewTokens()
                        && !"false".equals(System.getProperty("rlcd4j.dropFinishedRows"))) {
                    // Half of the running batch has finished: drop those rows, so later steps compute the live ones
                    // only. Halving (16, then at most 8, at most 4, ...) spreads the cost of copying the kept rows'
                    // cache over many finishes and skips 12 rows, which MKL runs more slowly than 16
                    // (docs/perf/engine.md). A batch otherwise ran until its longest row ended with all its rows.
                    // -Drlcd4j.dropFinishedRows=false keeps them.
                    int[] keep = new int[live];
                    for (int i = 0, j = 0; i < rows; i++) if (finish[active[i]] == null) keep[j++] = i;
                    cache.keepRows(keep);
                    sampler.keepRows(keep);
                    long[] keptIds = new long[live], keptPos = new long[live];
                    int[] keptRows = new int[live];
                    for (int j = 0; j < live; j++) {
                        keptIds[j] = stepIds[keep[j]];
                        keptPos[j] = stepPos[keep[j]];
                        keptRows[j] = active[keep[j]];
                    }
                    stepIds = keptIds;
                    stepPos = keptPos;
                    active = keptRows;
                }
                if (progress != null) progress.advance(1);
            }
        } finally {
            sampler.close();
            if (cpu) NativeThreads.restore();
        }
        long[][] ids = new long[B][];
        float[][] logprobs = new float[B][];
        String[] reasons = new String[B];
        for (int i = 0; i < B; i++) {
            ids[i] = toLongs(out.get(i));
            logprobs[i] = new float[ids[i].length];
            for (int t = 0; t < ids[i].length; t++) logprobs[i][t] = outLogp.get(i).get(t);
            reasons[i] = finish[i] == null ? "length" : finish[i];
        }
        return new Decoded(ids, logprobs, reasons);
    }

    /**
     * Prompt rows whose lengths differ by at most this many tokens share a prefill forward, left-padded to the longest
     * of them; rows further apart get forwards of their own (CPU only; a GPU prefills the whole padded batch at once).
     * Prefill is compute-bound on a CPU, so a padding token costs as much as a real one, about 2.7 ms at SmolLM2-135M's
     * shapes on 2 cores, while an extra forward costs about 100 ms beyond its tokens (reading the weights once more),
     * the price of ~37 padding tokens. HH prompts in one batch range from ~40 to ~500 tokens.
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
     * Feeds the prompts into {@code cache} (left-padded to P columns, each row's tokens in its last columns), a group
     * of similar lengths per forward ({@link #prefillGroups}), and returns the hidden state of each row's last prompt
     * token [B, D]. A row's positions count from its first real token, so it computes what it would alone.
     */
    private static NDArray prefill(LlamaModel model, NDManager manager, long[][] promptIds, int P, long padId, KvCache cache,
                                   boolean cpu) {
        int B = promptIds.length;
        List<int[]> groups = prefillGroups(promptIds, cpu ? PREFILL_PAD_LIMIT : Integer.MAX_VALUE);
        NDArray[] lastOfRow = new NDArray[B];
        for (int[] rows : groups) {
            int g = rows.length, W = 0;
            for (int r : rows) W = Math.max(W, promptIds[r].length);
            long[] ids = new long[g * W], positions = new long[g * W], keyMask = new long[g * W];
            for (int j = 0; j < g; j++) {
                long[] p = promptIds[rows[j]];
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
            if (g == B) return model.forward(idArr, posArr, mask, cache).get(":, -1, :"); // one group: straight into the cache
            try (KvCache part = new KvCache(manager, model.config().numLayers(), g, model.config().numKvHeads(), W,
                    model.config().headDim(), model.dtype())) {
                NDArray last = model.forward(idArr, posArr, mask, part).get(":, -1, :"); // [g,D]
                cache.storeRows(part, rows, P - W);
                for (int j = 0; j < g; j++) lastOfRow[rows[j]] = last.get(j);
            }
        }
        cache.advance(P);
        return NDArrays.stack(new NDList(lastOfRow));
    }

    static String cutAtFirst(String text, List<String> stops) {
        int cut = text.length();
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at >= 0) cut = Math.min(cut, at);
        }
        return text.substring(0, cut);
    }

    private static long[] toLongs(List<Long> xs) {
        long[] a = new long[xs.size()];
        for (int i = 0; i < a.length; i++) a[i] = xs.get(i);
        return a;
    }
}
