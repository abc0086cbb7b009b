package rlcd4j.sandbox;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import rlcd4j.progress.Progress;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * A small byte-level BPE trainer (the GPT-2 scheme) that writes a Hugging Face {@code tokenizer.json} the engine loads
 * with DJL's {@code HuggingFaceTokenizer}. Text is split with the GPT-2 pre-tokenizer pattern, each piece's UTF-8 bytes
 * are mapped to printable characters, and the most frequent adjacent pair is merged repeatedly. Every byte is in the
 * vocabulary, so any text encodes and decodes back exactly.
 *
 * <pre>{@code
 * BpeTrainer.Model bpe = BpeTrainer.train(texts, 2000);
 * bpe.writeHuggingFace(dir, 512);   // tokenizer.json, tokenizer_config.json, special_tokens_map.json
 * }</pre>
 */
public final class BpeTrainer {
    public static final String PAD = "<pad>", BOS = "<s>", EOS = "</s>";
    /** Special token ids: pad 0, BOS 1, EOS 2 (LLaMA keeps BOS 1 and EOS 2). */
    public static final int PAD_ID = 0, BOS_ID = 1, EOS_ID = 2;
    /** The pre-tokenizer pattern of Hugging Face's ByteLevel (GPT-2). */
    static final Pattern PRE_TOKENIZER = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    /** Pairs seen fewer times than this are not merged. */
    static final int MIN_PAIR_COUNT = 2;

    private BpeTrainer() {}

    /** A trained vocabulary: tokens in id order (specials, 256 bytes, merged tokens) and the merges in rank order. */
    public record Model(List<String> vocab, List<String[]> merges) {
        public int vocabSize() {
            return vocab.size();
        }

        /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}. */
        public void writeHuggingFace(Path dir, int modelMaxLength) {
            try {
                Files.createDirectories(dir);
                Files.writeString(
                        dir.resolve("tokenizer.json"), Json.writePretty(tokenizerJson()), StandardCharsets.UTF_8);
                Files.writeString(
                        dir.resolve("tokenizer_config.json"),
                        Json.writePretty(tokenizerConfig(modelMaxLength)),
                        StandardCharsets.UTF_8);
                JsonObject map = new JsonObject();
                map.addProperty("bos_token", BOS);
                map.addProperty("eos_token", EOS);
                map.addProperty("pad_token", PAD);
                Files.writeString(
                        dir.resolve("special_tokens_map.json"), Json.writePretty(map), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new RlcdException(dir + ": cannot write the tokenizer: " + e.getMessage(), e);
            }
        }

        private JsonObject tokenizerJson() {
            JsonObject root = new JsonObject();
            root.addProperty("version", "1.0");
            root.add("truncation", JsonNull.INSTANCE);
            root.add("padding", JsonNull.INSTANCE);
            JsonArray added = new JsonArray();
            for (int id = 0; id < 3; id++) {
                JsonObject t = new JsonObject();
                t.addProperty("id", id);
                t.addProperty("content", vocab.get(id));
                t.addProperty("single_word", false);
                t.addProperty("lstrip", false);
                t.addProperty("rstrip", false);
                t.addProperty("normalized", false);
                t.addProperty("special", true);
                added.add(t);
            }
            root.add("added_tokens", added);
            root.add("normalizer", JsonNull.INSTANCE);
            root.add("pre_tokenizer", byteLevel(false));
            root.add("post_processor", bosTemplate());
            root.add("decoder", byteLevel(true));
            JsonObject model = new JsonObject();
            model.addProperty("type", "BPE");
            model.add("dropout", JsonNull.INSTANCE);
            model.add("unk_token", JsonNull.INSTANCE);
            model.add("continuing_subword_prefix", JsonNull.INSTANCE);
            model.add("end_of_word_suffix", JsonNull.INSTANCE);
            model.addProperty("fuse_unk", false);
            model.addProperty("byte_fallback", false);
            model.addProperty("ignore_merges", false);
            JsonObject v = new JsonObject();
            for (int i = 0; i < vocab.size(); i++) v.addProperty(vocab.get(i), i);
            model.add("vocab", v);
            JsonArray m = new JsonArray();
            for (String[] p : merges) m.add(p[0] + " " + p[1]);
            model.add("merges", m);
            root.add("model", model);
            return root;
        }

        private static JsonObject byteLevel(boolean decoder) {
            JsonObject o = new JsonObject();
            o.addProperty("type", "ByteLevel");
            o.addProperty("add_prefix_space", false);
            o.addProperty("trim_offsets", !decoder);
            o.addProperty("use_regex", true);
            return o;
        }

        /** Prepends BOS to every encoding (as LLaMA's tokenizer does). */
        private static JsonObject bosTemplate() {
            JsonObject o = new JsonObject();
            o.addProperty("type", "TemplateProcessing");
            JsonArray single = new JsonArray();
            single.add(special(0));
            single.add(sequence("A", 0));
            JsonArray pair = new JsonArray();
            pair.add(special(0));
            pair.add(sequence("A", 0));
            pair.add(special(1));
            pair.add(sequence("B", 1));
            o.add("single", single);
            o.add("pair", pair);
            JsonObject specials = new JsonObject();
            JsonObject bos = new JsonObject();
            bos.addProperty("id", BOS);
            JsonArray ids = new JsonArray();
            ids.add(BOS_ID);
            bos.add("ids", ids);
            JsonArray toks = new JsonArray();
            toks.add(BOS);
            bos.add("tokens", toks);
            specials.add(BOS, bos);
            o.add("special_tokens", specials);
            return o;
        }

        private static JsonObject special(int typeId) {
            JsonObject inner = new JsonObject();
            inner.addProperty("id", BOS);
            inner.addProperty("type_id", typeId);
            JsonObject o = new JsonObject();
            o.add("SpecialToken", inner);
            return o;
        }

        private static JsonObject sequence(String id, int typeId) {
            JsonObject inner = new JsonObject();
            inner.addProperty("id", id);
            inner.addProperty("type_id", typeId);
            JsonObject o = new JsonObject();
            o.add("Sequence", inner);
            return o;
        }

        private JsonObject tokenizerConfig(int modelMaxLength) {
            JsonObject c = new JsonObject();
            c.addProperty("add_bos_token", true);
            c.addProperty("add_eos_token", false);
            c.addProperty("bos_token", BOS);
            c.addProperty("eos_token", EOS);
            c.addProperty("pad_token", PAD);
            c.add("unk_token", JsonNull.INSTANCE);
            c.addProperty("clean_up_tokenization_spaces", false);
            c.addProperty("model_max_length", modelMaxLength);
            c.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
            JsonObject decoderMap = new JsonObject();
            for (int id = 0; id < 3; id++) {
                JsonObject t = new JsonObject();
                t.addProperty("content", vocab.get(id));
                t.addProperty("lstrip", false);
                t.addProperty("normalized", false);
                t.addProperty("rstrip", false);
                t.addProperty("single_word", false);
                t.addProperty("special", true);
                decoderMap.add(String.valueOf(id), t);
            }
            c.add("added_tokens_decoder", decoderMap);
            return c;
        }
    }

    /** Learns up to {@code maxMerges} merges from {@code texts} (fewer if no pair occurs {@value #MIN_PAIR_COUNT}+ times). */
    public static Model train(Iterable<String> texts, int maxMerges) {
        if (maxMerges < 0) throw new RlcdException("BPE merges must be >= 0, got " + maxMerges);
        String[] byteChar = byteToUnicode();

        // 1. Pre-tokenize and count distinct pieces (as byte-level strings).
        Map<String, Integer> pieceCounts = new TreeMap<>(); // sorted: the result does not depend on hash order
        for (String text : texts) {
            Matcher m = PRE_TOKENIZER.matcher(text);
            while (m.find()) {
                StringBuilder sb = new StringBuilder();
                for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) sb.append(byteChar[b & 0xff]);
                pieceCounts.merge(sb.toString(), 1, Integer::sum);
            }
        }

        // 2. Symbols start as the 256 byte characters.
        List<String> vocab = new ArrayList<>(List.of(PAD, BOS, EOS));
        Map<String, Integer> symbolId = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            symbolId.put(byteChar[b], vocab.size());
            vocab.add(byteChar[b]);
        }
        int nWords = pieceCounts.size();
        int[][] words = new int[nWords][];
        int[] freq = new int[nWords];
        int w = 0;
        for (var e : pieceCounts.entrySet()) {
            String piece = e.getKey();
            int[] syms = new int[piece.length()];
            for (int i = 0; i < piece.length(); i++) syms[i] = symbolId.get(String.valueOf(piece.charAt(i)));
            words[w] = syms;
            freq[w++] = e.getValue();
        }

        // 3. Pair counts and, per pair, the words containing it (entries may go stale; re-checked on use).
        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, Set<Integer>> where = new HashMap<>();
        for (int i = 0; i < nWords; i++) addPairs(words[i], freq[i], i, pairCount, where, +1);

        List<String[]> merges = new ArrayList<>();
        try (Progress p = Progress.start("bpe merges", maxMerges)) {
            while (merges.size() < maxMerges) {
                long best = -1;
                long bestCount = 0;
                String bestText = null;
                for (var e : pairCount.entrySet()) {
                    long c = e.getValue();
                    if (c < bestCount || c < MIN_PAIR_COUNT) continue;
                    if (c > bestCount) {
                        best = e.getKey();
                        bestCount = c;
                        bestText = null;
                        continue;
                    }
                    // A tie: the lexically smaller pair wins, so the result does not depend on hash order.
                    if (bestText == null) bestText = vocab.get(first(best)) + " " + vocab.get(second(best));
                    String text = vocab.get(first(e.getKey())) + " " + vocab.get(second(e.getKey()));
                    if (text.compareTo(bestText) < 0) {
                        best = e.getKey();
                        bestText = text;
                    }
                }
                if (best < 0) break;
                int a = first(best), b = second(best);
                String merged = vocab.get(a) + vocab.get(b);
                Integer id = symbolId.get(merged);
                if (id == null) {
                    id = vocab.size();
                    symbolId.put(merged, id);
                    vocab.add(merged);
                }
                merges.add(new String[] {vocab.get(a), vocab.get(b)});
                for (int wi : new ArrayList<>(where.getOrDefault(best, Set.of()))) {
                    int[] syms = words[wi];
                    if (!containsPair(syms, a, b)) continue;
                    addPairs(syms, freq[wi], wi, pairCount, where, -1);
                    words[wi] = mergePair(syms, a, b, id);
                    addPairs(words[wi], freq[wi], wi, pairCount, where, +1);
                }
                pairCount.remove(best);
                p.advance(1);
            }
            p.status("vocab " + vocab.size());
        }
        return new Model(List.copyOf(vocab), List.copyOf(merges));
    }

    private static void addPairs(
            int[] syms, int f, int word, Map<Long, Long> count, Map<Long, Set<Integer>> where, int sign) {
        for (int i = 0; i + 1 < syms.length; i++) {
            long key = pair(syms[i], syms[i + 1]);
            long c = count.getOrDefault(key, 0L) + (long) sign * f;
            if (c <= 0) count.remove(key);
            else count.put(key, c);
            if (sign > 0) where.computeIfAbsent(key, k -> new HashSet<>()).add(word);
        }
    }

    private static boolean containsPair(int[] syms, int a, int b) {
        for (int i = 0; i + 1 < syms.length; i++) if (syms[i] == a && syms[i + 1] == b) return true;
        return false;
    }

    private static int[] mergePair(int[] syms, int a, int b, int id) {
        int[] out = new int[syms.length];
        int n = 0;
        for (int i = 0; i < syms.length; i++) {
            if (i + 1 < syms.length && syms[i] == a && syms[i + 1] == b) {
                out[n++] = id;
                i++;
            } else out[n++] = syms[i];
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    private static int first(long p) {
        return (int) (p >>> 32);
    }

    private static int second(long p) {
        return (int) p;
    }

    /** GPT-2's reversible map from bytes to printable characters (printable Latin-1 maps to itself). */
    static String[] byteToUnicode() {
        String[] out = new String[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) out[b] = String.valueOf((char) (direct[b] ? b : 256 + n++));
        return out;
    }
}
