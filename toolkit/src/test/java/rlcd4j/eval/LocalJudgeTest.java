package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.eval.JudgePrompt.Task;
import rlcd4j.util.RlcdException;

/** {@link LocalJudge} end to end on the TinyStories-656K checkpoint. */
class LocalJudgeTest {
    static CausalLM lm;
    static final String CONV = "\n\nHuman: Can you tell me a story about a dog?\n\nAssistant:";
    static final String GOOD = "Once upon a time, there was a happy dog named Max. He liked to play in the park.";
    static final String BAD = "No.";

    @BeforeAll
    static void load() {
        lm = CausalLM.load(Fixtures.tinyStories());
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    @Test
    void probabilityOfAFromTheNextTokenLogitsInBothOrders(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache.jsonl");
        LocalJudge j = LocalJudge.of(lm, Task.HELPFUL, cache);
        assertEquals("local:" + lm.name() + "/helpful", j.name());
        Verdict ab = j.judge(CONV, GOOD, BAD), ba = j.judge(CONV, BAD, GOOD);
        for (Verdict v : List.of(ab, ba)) {
            assertTrue(v.probFirst() > 0 && v.probFirst() < 1, v.toString());
            assertEquals(v.probFirst() > 0.5 ? "A" : "B", v.answer());
            assertTrue(v.raw().matches("logp\\(A\\)=-\\S+ logp\\(B\\)=-\\S+"), v.raw());
        }
        // The same number computed here from the engine's logits: the prompt ends in the answer prefix, the ids are
        // the last tokens of "A" and "B".
        String prompt = JudgePrompt.build(Task.HELPFUL, CONV, GOOD, BAD) + "\n\n\n\nThe answer is: (";
        assertEquals(prompt, j.prompt(CONV, GOOD, BAD));
        float[] logits = lm.nextTokenLogits(List.of(prompt))[0];
        double lA = logits[(int) lm.tokenizer().lastTokenId("A")],
                lB = logits[(int) lm.tokenizer().lastTokenId("B")];
        assertEquals(Math.exp(lA) / (Math.exp(lA) + Math.exp(lB)), ab.probFirst(), 1e-6);
        // The two orders are different prompts: the model sees other texts, so the probabilities differ.
        assertNotEquals(ab.probFirst(), 1 - ba.probFirst(), 1e-9);

        // Batched judging gives what one-by-one judging gives (fresh judge, no cache).
        List<Verdict> batch = LocalJudge.of(lm, Task.HARMLESS, null)
                .judgeAll(List.of(
                        new Judge.Comparison(CONV, GOOD, BAD),
                        new Judge.Comparison(CONV, BAD, GOOD),
                        new Judge.Comparison(CONV, GOOD, GOOD)));
        LocalJudge single = LocalJudge.of(lm, Task.HARMLESS, null);
        assertEquals(single.judge(CONV, BAD, GOOD).probFirst(), batch.get(1).probFirst(), 1e-5);
        assertNotEquals(ab.probFirst(), batch.get(0).probFirst(), 1e-9); // another task, another question

        // A second judge on the same cache file scores nothing and returns the same verdicts.
        assertEquals(2, j.promptsScored());
        assertEquals(2, Files.readAllLines(cache).size());
        LocalJudge again = LocalJudge.of(lm, Task.HELPFUL, cache);
        assertEquals(ab, again.judge(CONV, GOOD, BAD));
        assertEquals(ba, again.judge(CONV, BAD, GOOD));
        assertEquals(0, again.promptsScored());
        assertEquals(2, Files.readAllLines(cache).size());
    }

    @Test
    void configSetsNameBatchAndPrefix() {
        LocalJudge.Config config =
                LocalJudge.Config.defaults().withModel("judge").withBatchSize(3).withAnswerPrefix("\n\nAnswer: (");
        LocalJudge j = new LocalJudge(lm, config);
        assertEquals("local:judge/helpful", j.name());
        assertEquals(3, j.batchSize());
        assertTrue(j.prompt(CONV, GOOD, BAD).endsWith("\n\nAnswer: ("));
        assertEquals(8, LocalJudge.Config.defaults().batchSize());
        assertEquals(Task.HELPFUL, LocalJudge.Config.defaults().task());
        RlcdException e = assertThrows(RlcdException.class, () -> config.withBatchSize(0));
        assertTrue(e.getMessage().contains("batch size: 0"), e.getMessage());
    }

    @Test
    void verdictFromLogprobs() {
        Verdict tie = LocalJudge.verdict("logp(A)=-1.5 logp(B)=-1.5");
        assertNull(tie.answer());
        assertEquals(0.5, tie.probFirst());
        Verdict a = LocalJudge.verdict("logp(A)=-1.0 logp(B)=-2.0");
        assertEquals("A", a.answer());
        assertEquals(1 / (1 + Math.exp(-1)), a.probFirst(), 1e-12);
        assertEquals("B", LocalJudge.verdict("logp(A)=-900.0 logp(B)=-2.0").answer());
        assertThrows(RlcdException.class, () -> LocalJudge.verdict("(A)"));
    }

    @Test
    void tooLongForTheJudgeModelIsOneClearError() {
        String long1 = "the dog ran. ".repeat(200);
        RlcdException e = assertThrows(
                RlcdException.class, () -> LocalJudge.of(lm, Task.HELPFUL, null).judge(CONV, long1, BAD));
        assertTrue(e.getMessage().contains("reads at most 512"), e.getMessage());
    }
}
