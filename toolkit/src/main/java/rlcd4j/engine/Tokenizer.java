package rlcd4j.engine;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.util.RlcdException;

/**
 * A Hugging Face {@code tokenizer.json} (through DJL's Rust binding) with the special tokens a causal LM needs. BOS, EOS
 * and pad come from {@code generation_config.json}, {@code config.json} and {@code tokenizer_config.json}, in that order,
 * as transformers resolves them. A model without a pad token pads with EOS, as the RLCD code does.
 */
public final class Tokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer hf;
    private final Long bosId;
    private final long eosId;
    private final long padId;
    private final boolean addsBos;
    private final int vocabSize;
    private final Map<String, long[]> cache = new HashMap<>();

    private Tokenizer(HuggingFaceTokenizer hf, Long bosId, long eosId, long padId, boolean addsBos, int vocabSize) {
        this.hf = hf;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
        this.addsBos = addsBos;
        this.vocabSize = vocabSize;
    }

    /** Loads {@code tokenizer.json} from a model folder; special ids from the folder's config files. */
    public static Tokenizer load(Path dir, LlamaConfig config) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.exists(file)) {
            throw new RlcdException(dir + ": tokenizer.json is missing; expected a Hugging Face fast-tokenizer file"
                    + (Files.exists(dir.resolve("tokenizer.model"))
                            ? " (only a SentencePiece tokenizer.model is present; save the tokenizer with transformers to get tokenizer.json)"
                            : ""));
        }
        HuggingFaceTokenizer hf;
        try {
            // No truncation or padding: the engine pads itself. maxLength set only to silence DJL's warning.
            hf = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(true)
                    .optTruncation(false)
                    .optPadding(false)
                    .optMaxLength(1 << 30)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new RlcdException(file + ": cannot load tokenizer: " + e.getMessage(), e);
        }
        JsonObject gen = readJson(dir.resolve("generation_config.json"));
        JsonObject tokCfg = readJson(dir.resolve("tokenizer_config.json"));
        JsonObject special = readJson(dir.resolve("special_tokens_map.json"));
        Long bos = firstId(gen, "bos_token_id", dir.resolve("generation_config.json"));
        if (bos == null && config.bosTokenId() != null)
            bos = config.bosTokenId().longValue();
        if (bos == null) bos = idOfToken(hf, tokenText(tokCfg, special, "bos_token"));
        Long eos = firstId(gen, "eos_token_id", dir.resolve("generation_config.json"));
        if (eos == null && !config.eosTokenIds().isEmpty())
            eos = config.eosTokenIds().get(0).longValue();
        if (eos == null) eos = idOfToken(hf, tokenText(tokCfg, special, "eos_token"));
        if (eos == null) {
            throw new RlcdException(
                    dir
                            + ": no EOS token: expected eos_token_id in generation_config.json or config.json, or eos_token in tokenizer_config.json");
        }
        Long pad = firstId(gen, "pad_token_id", dir.resolve("generation_config.json"));
        if (pad == null && config.padTokenId() != null)
            pad = config.padTokenId().longValue();
        if (pad == null) pad = idOfToken(hf, tokenText(tokCfg, special, "pad_token"));
        if (pad == null) pad = eos;
        // Whether the post-processor adds BOS: encode the empty string with special tokens and look.
        long[] probe = hf.encode("", true, false).getIds();
        boolean addsBos = bos != null && probe.length > 0 && probe[0] == bos;
        return new Tokenizer(hf, bos, eos, pad, addsBos, config.vocabSize());
    }

    private static JsonObject readJson(Path file) {
        if (!Files.exists(file)) return new JsonObject();
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file));
            return e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
        } catch (IOException | RuntimeException e) {
            throw new RlcdException(file + ": malformed JSON: " + e.getMessage(), e);
        }
    }

    private static Long firstId(JsonObject o, String field, Path file) {
        if (!o.has(field) || o.get(field).isJsonNull()) return null;
        JsonElement e = o.get(field);
        try {
            if (e.isJsonArray())
                return e.getAsJsonArray().isEmpty()
                        ? null
                        : e.getAsJsonArray().get(0).getAsLong();
            return e.getAsLong();
        } catch (RuntimeException ex) {
            throw new RlcdException(file + ": field " + field + ": expected a token id or a list of them, got " + e);
        }
    }

    private static String tokenText(JsonObject tokCfg, JsonObject special, String field) {
        for (JsonObject o : List.of(tokCfg, special)) {
            if (!o.has(field) || o.get(field).isJsonNull()) continue;
            JsonElement e = o.get(field);
            if (e.isJsonPrimitive()) return e.getAsString();
            if (e.isJsonObject() && e.getAsJsonObject().has("content"))
                return e.getAsJsonObject().get("content").getAsString();
        }
        return null;
    }

    private static Long idOfToken(HuggingFaceTokenizer hf, String token) {
        if (token == null) return null;
        long[] ids = hf.encode(token, false, false).getIds();
        return ids.length == 1 ? ids[0] : null;
    }

    /** Token ids of {@code text}; with {@code addSpecial}, BOS when the tokenizer adds one. */
    public long[] encode(String text, boolean addSpecial) {
        return hf.encode(text, addSpecial, false).getIds();
    }

    /** A prompt and its continuation tokenised together; {@code boundary} is where the continuation's ids start. */
    public record Pair(long[] ids, int boundary) {}

    /**
     * Tokenises {@code prompt + continuation} as one text (as a model sees it in training) and finds where the
     * continuation starts: after the longest common prefix with the tokenised prompt, so a token straddling the
     * boundary belongs to the continuation. BOS is added when the tokenizer adds one.
     */
    public Pair encodePair(String prompt, String continuation) {
        long[] p = encode(prompt, true);
        long[] f = encode(prompt + continuation, true);
        int c = 0;
        while (c < p.length && c < f.length && p[c] == f[c]) c++;
        return new Pair(f, c);
    }

    /** Ids and the character span of each token, for splitting a tokenised text at a character offset. */
    public Encoding encodeWithOffsets(String text, boolean addSpecial) {
        return hf.encode(text, addSpecial, false);
    }

    /** Text of {@code ids} with special tokens removed. */
    public String decode(long[] ids) {
        return hf.decode(ids, true);
    }

    /** Text of {@code ids} with special tokens kept (as the RLCD simulation decodes, so {@code </s>} can appear). */
    public String decodeWithSpecial(long[] ids) {
        return hf.decode(ids, false);
    }

    /**
     * The id that stands for {@code text} when it follows other text, as the RLCD code finds it:
     * {@code tokenizer.encode(text)[-1]}. Used to read the logits of "A" and "B".
     */
    public long lastTokenId(String text) {
        long[] ids = encode(text, false);
        if (ids.length == 0) throw new RlcdException("the tokenizer maps \"" + text + "\" to no token");
        return ids[ids.length - 1];
    }

    /**
     * Every vocabulary id whose decoded text contains one of {@code strings}: banning these ids guarantees that no
     * generated text contains the strings (stronger than HF's {@code bad_words_ids}, which bans exact token
     * sequences). Cached per set of strings.
     */
    public synchronized long[] idsContaining(List<String> strings) {
        String key = String.join("\u0000", strings);
        return cache.computeIfAbsent(key, k -> {
            List<Long> out = new ArrayList<>();
            for (long id = 0; id < vocabSize; id++) {
                String piece = hf.decode(new long[] {id}, false);
                for (String s : strings) {
                    if (!s.isEmpty() && piece.contains(s)) {
                        out.add(id);
                        break;
                    }
                }
            }
            return out.stream().mapToLong(Long::longValue).toArray();
        });
    }

    public Long bosId() {
        return bosId;
    }

    public long eosId() {
        return eosId;
    }

    public long padId() {
        return padId;
    }

    /** True when {@code encode(text, true)} starts with BOS. */
    public boolean addsBos() {
        return addsBos;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public HuggingFaceTokenizer huggingFace() {
        return hf;
    }

    @Override
    public void close() {
        hf.close();
    }
}
