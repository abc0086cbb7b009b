package rlcd4j.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {
    @TempDir
    static Path dir;

    static BpeTrainer.Model model;
    static List<String> texts;

    @BeforeAll
    static void train() {
        texts = SandboxWorldTest.corpus(21, 4000).stream().map(Dialogue::text).toList();
        model = BpeTrainer.train(texts, 2000);
        model.writeHuggingFace(dir, 512);
    }

    @Test
    void byteMapIsAReversiblePrintableAlphabet() {
        String[] m = BpeTrainer.byteToUnicode();
        Set<String> distinct = new HashSet<>(List.of(m));
        assertEquals(256, distinct.size());
        assertEquals("A", m['A']);
        assertEquals("\u0120", m[' ']); // GPT-2's Ġ
        assertEquals("\u010a", m['\n']); // GPT-2's Ċ
    }

    @Test
    void vocabularyIsSpecialsBytesThenMerges() {
        assertEquals(List.of("<pad>", "<s>", "</s>"), model.vocab().subList(0, 3));
        // The sandbox language is small: training stops once no pair occurs twice (about 1600 merges on 4000
        // dialogues).
        assertTrue(
                model.merges().size() > 1000 && model.merges().size() <= 2000,
                "merges " + model.merges().size());
        assertTrue(model.vocabSize() <= 3 + 256 + 2000);
        assertEquals(model.vocabSize(), new HashSet<>(model.vocab()).size(), "no duplicate tokens");
        System.out.println("bpe: " + model.merges().size() + " merges, vocab " + model.vocabSize());
    }

    @Test
    void trainingIsDeterministic() {
        BpeTrainer.Model again = BpeTrainer.train(texts.subList(0, 500), 300);
        BpeTrainer.Model twice = BpeTrainer.train(texts.subList(0, 500), 300);
        assertEquals(again.vocab(), twice.vocab());
        for (int i = 0; i < again.merges().size(); i++)
            assertArrayEquals(again.merges().get(i), twice.merges().get(i));
    }

    @Test
    void djlLoadsItOfflineAndRoundTripsExactly() throws Exception {
        assertEquals("true", System.getProperty("ai.djl.offline"));
        assertTrue(Files.exists(dir.resolve("tokenizer_config.json"))
                && Files.exists(dir.resolve("special_tokens_map.json")));
        SandboxWorld world = SandboxWorld.standard();
        List<String> samples = new ArrayList<>(texts.subList(0, 500));
        Random rng = new Random(22);
        for (SandboxTask t : SandboxTask.values())
            for (int i = 0; i < 30; i++)
                samples.add(world.evaluationDialogue(t, rng).prompt());
        for (SandboxDescriptions.Pair p : world.descriptions().pairs(SandboxTask.HARMLESS))
            samples.add(
                    "Human: hi\n\nAssistant " + p.positive() + ": ok\n\nHuman: x\n\nAssistant " + p.negative() + ":");
        samples.addAll(List.of(
                "",
                " ",
                "\n\n",
                "  two  spaces\ttab\r\n",
                "caf\u00e9 \u2019quote\u2019 \ud83d\ude00 \u4e2d\u6587",
                "(((\n\nAssistant:)))",
                "back\\slash `tick`"));
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir)) {
            for (String s : samples) {
                long[] ids = tok.encode(s).getIds();
                assertEquals(BpeTrainer.BOS_ID, ids[0], "BOS first");
                assertEquals(s, tok.decode(ids, true), "round trip");
                long[] plain = tok.encode(s, false, false).getIds();
                assertEquals(ids.length - 1, plain.length);
                for (long id : plain) assertTrue(id >= 3 && id < model.vocabSize());
            }
            // The same ids as the trainer's vocabulary.
            assertEquals(model.vocab().indexOf("\u0120Paris"), (int)
                    tok.encode(" Paris", false, false).getIds()[0]);
            assertEquals("</s>", tok.decode(new long[] {BpeTrainer.EOS_ID}, false));
            // As in Hugging Face's LLaMA tokenizers, a literal "<s>" in text is the special token (the sandbox never
            // writes one).
            assertEquals(BpeTrainer.BOS_ID, tok.encode("<s>", false, false).getIds()[0]);

            // Lengths: average tokens per dialogue, and whether prompt + 60 answer tokens fit in 256.
            long total = 0;
            int maxPrompt = 0;
            for (String s : texts) total += tok.encode(s).getIds().length;
            for (SandboxTask t : SandboxTask.values()) {
                long sum = 0;
                int n = 300, maxAnswer = 0;
                for (int i = 0; i < n; i++) {
                    Dialogue d = world.evaluationDialogue(t, rng);
                    int len = tok.encode(d.prompt()).getIds().length;
                    sum += len;
                    maxPrompt = Math.max(maxPrompt, len);
                    maxAnswer = Math.max(
                            maxAnswer,
                            tok.encode(" " + d.answer() + "\n\nHuman:", false, false)
                                    .getIds()
                                    .length);
                }
                System.out.printf(
                        "tokens, %s: eval prompt mean %.1f; longest reference answer %d%n",
                        t, sum / (double) n, maxAnswer);
            }
            double mean = total / (double) texts.size();
            System.out.printf(
                    "tokens per pretraining dialogue (with BOS): mean %.1f; longest eval prompt %d%n", mean, maxPrompt);
            assertTrue(maxPrompt + 60 <= 256, "longest prompt " + maxPrompt);
            assertTrue(mean < 200, "mean " + mean);
        }
    }
}
