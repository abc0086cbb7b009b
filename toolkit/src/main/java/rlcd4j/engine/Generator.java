package rlcd4j.engine;

import ai.djl.ndarray.NDArray;
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
        long[] firstIds = new long[B * P];
        long[] keyMask = new long[B * capacity];
        long[] nextPos = new long[B];
        long[] positions = new long[B * P];
        for (int i = 0; i < B; i++) {
            int pad = P - promptIds[i].length;
            for (int t = 0; t < P; t++) {
                boolean real = t >= pad;
                firstIds[i * P + t] = real ? promptIds[i][t - pad] : padId;
                keyMask[i * capacity + t] = real ? 1 : 0;
                positions[i * P + t] = real ? t - pad : 0;
            }
            nextPos[i] = promptIds[i].length;
        }
        Sampler sampler = new Sampler(cfg, rowSeeds, banned, manager, model.config().vocabSize());
        List<List<Long>> out = new ArrayList<>();
        List<List<Float>> outLogp = new ArrayList<>();
        for (int i = 0; i < B; i++) {
            out.add(new ArrayList<>());
            outLogp.add(new ArrayList<>());
        }
        String[] finish = new String[B];
        int live = B;
        try (KvCache cache = new KvCache(manager, model.config().numLayers(), B, model.config().numKvHeads(), capacity,
                model.config().headDim(), model.dtype())) {
            long[] stepIds = firstIds;
            long[] stepPos = positions;
            int T = P;
            for (int step = 0; step < cfg.maxNewTokens() && live > 0; step++) {
                Sampler.Result r;
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    int past = cache.length();
                    int S = past + T;
                    NDArray ids = manager.create(stepIds, new Shape(B, T));
                    NDArray pos = manager.create(stepPos, new Shape(B, T));
                    NDArray attn = null; // a single-token step over unpadded rows sees every key: no mask needed
                    if (T > 1 || padded) {
                        long[] mask = new long[B * S];
                        for (int i = 0; i < B; i++) System.arraycopy(keyMask, i * capacity, mask, i * S, S);
                        attn = LlamaModel.attentionMask(manager, manager.create(mask, new Shape(B, S)), past, T);
                    }
                    if (!manager.getDevice().isGpu()) NativeThreads.forRows(B * T);
                    NDArray hidden = model.forward(ids, pos, attn, cache);
                    NDArray last = hidden.get(":, -1, :"); // [B,D]
                    NDArray logits = model.logits(last).toType(DataType.FLOAT32, false);
                    r = sampler.next(logits);
                }
                int col = P + step;
                stepIds = new long[B];
                stepPos = new long[B];
                for (int i = 0; i < B; i++) {
                    keyMask[i * capacity + col] = 1;
                    stepPos[i] = nextPos[i]++;
                    if (finish[i] != null) {
                        stepIds[i] = padId;
                        continue;
                    }
                    long id = r.ids()[i];
                    stepIds[i] = id;
                    out.get(i).add(id);
                    outLogp.get(i).add(r.logprobs()[i]);
                    if (id == eosId) {
                        finish[i] = "eos";
                    } else if (!cfg.stopStrings().isEmpty()) {
                        String text = tok.decode(toLongs(out.get(i)));
                        for (String s : cfg.stopStrings()) {
                            if (text.contains(s)) {
                                finish[i] = "stop";
                                break;
                            }
                        }
                    }
                    if (finish[i] != null) live--;
                }
                T = 1;
                if (progress != null) progress.advance(1);
            }
        } finally {
            sampler.close();
            if (!manager.getDevice().isGpu()) NativeThreads.restore();
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
