package rlcd4j.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.sandbox.BpeTrainer;
import rlcd4j.sandbox.SandboxModelConfig;

/**
 * The incremental text of a sample against decoding all its tokens, step by step, with two real tokenizers:
 * TinyStories' (SentencePiece-style pieces, "▁" for spaces, unknown characters dropped) and a byte-level BPE of GPT-2's
 * kind, as SmolLM2 and LLaMA 3 use, trained here on text with multi-byte characters (a character split over
 * tokens decodes to U+FFFD until its last byte arrives).
 */
class IncrementalTextTest {
    static CausalLM lm;
    static Tokenizer pieces, bytes;

    @TempDir
    static Path dir;

    @BeforeAll
    static void load() {
        lm = CausalLM.load(Fixtures.tinyStories());
        pieces = lm.tokenizer();
        List<String> texts = List.of(
                "Grüße aus Köln, sagte der Hund.",
                "世界 and 世 and 界, 🙂 then 🙂🙂.",
                "Human: naïve café? Assistant: ça va, 東京!",
                "the cat and the dog ran home.");
        BpeTrainer.Model bpe = BpeTrainer.train(texts, 40);
        bpe.writeHuggingFace(dir, 512);
        SandboxModelConfig.recommended(bpe.vocabSize()).write(dir);
        bytes = Tokenizer.load(dir, LlamaConfig.read(dir.resolve("config.json")));
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    /** Feeds {@code ids} one token at a time and checks the text after each against a decode of all of them. */
    private static IncrementalText assertSameTextEveryStep(Tokenizer tok, long[] ids, String what) {
        IncrementalText text = new IncrementalText(tok);
        for (int n = 1; n <= ids.length; n++) {
            text.update(ids, n);
            assertEquals(tok.decode(Arrays.copyOf(ids, n)), text.text(), what + ", after " + n + " tokens");
        }
        return text;
    }

    @Test
    void textOfRandomTokensIsTheWholeDecodeAtEveryStep() {
        // uniform over the vocabulary: lone bytes (incomplete characters), specials, pieces with and without their
        // leading space, all in random order
        SplittableRandom rng = new SplittableRandom(3);
        for (Tokenizer tok : List.of(pieces, bytes)) {
            for (int k = 0; k < 60; k++) assertSameTextEveryStep(tok, randomIds(tok, rng, 80), "random sequence " + k);
        }
    }

    @Test
    void textOfMultiByteCharactersIsTheWholeDecodeAtEveryStep() {
        String text = " Grüße, 世界! 🙂\n\nHuman: and   spaces  at the end ";
        long[] ids = bytes.encode(text, false);
        assertEquals(text, bytes.decode(ids));
        assertTrue(
                Arrays.stream(ids).anyMatch(id -> bytes.decode(new long[] {id}).contains("\uFFFD")),
                "some characters should take more than one byte-level token");
        // real text never needs a whole decode: an incomplete character waits, pending, for its last byte
        assertEquals(0, assertSameTextEveryStep(bytes, ids, "byte-level tokens").wholeDecodes);
        assertEquals(0, assertSameTextEveryStep(pieces, pieces.encode(text, false), "pieces").wholeDecodes);
    }

    @Test
    void stopIsReachedAtTheFirstStepWhoseWholeDecodeContainsIt() {
        // short stops fire often, and they straddle token boundaries; a search that missed text before the step's own
        // tokens, or text held back as pending, would stop later than the whole decode does
        List<List<String>> stopSets = List.of(List.of("the"), List.of("e "), List.of("Hu", "\n"), List.of("and", "."));
        SplittableRandom rng = new SplittableRandom(5);
        int stopped = 0;
        for (Tokenizer tok : List.of(pieces, bytes)) {
            for (List<String> stops : stopSets) {
                for (int k = 0; k < 40; k++) {
                    long[] ids = k % 2 == 0 ? randomIds(tok, rng, 60) : tok.encode(storyish(rng), false);
                    int expected = -1;
                    for (int n = 1; n <= ids.length && expected < 0; n++) {
                        String whole = tok.decode(Arrays.copyOf(ids, n));
                        if (stops.stream().anyMatch(whole::contains)) expected = n;
                    }
                    IncrementalText text = new IncrementalText(tok);
                    int got = -1;
                    for (int n = 1; n <= ids.length && got < 0; n++) if (text.reaches(ids, n, stops)) got = n;
                    assertEquals(
                            expected,
                            got,
                            "stops " + stops + ", sequence " + k + " of " + (tok == pieces ? "pieces" : "bytes"));
                    if (got > 0) stopped++;
                }
            }
        }
        assertTrue(stopped > 200, "most sequences should reach a stop; " + stopped + " did");
    }

    private static long[] randomIds(Tokenizer tok, SplittableRandom rng, int n) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = rng.nextInt(tok.vocabSize());
        return ids;
    }

    private static String storyish(SplittableRandom rng) {
        String[] words = {
            "the", "cat", "and", "dog", "Human:", "ran", "home.", "\n", "e", "Hu", "big", "tree,", "ünd", "世界", "🙂"
        };
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 30; i++) b.append(i == 0 ? "" : " ").append(words[rng.nextInt(words.length)]);
        return b.toString();
    }
}
