package rlcd4j.util;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** One test per rule of the official process_filter_result, in its order. */
class PostProcessTest {
    private final PostProcess pp = PostProcess.paper();

    private void ok(String expected, String raw) {
        PostProcess.Result r = pp.apply(raw);
        assertTrue(r.ok(), "expected ok for " + raw + " but " + r.reason());
        assertEquals(expected, r.text());
    }

    private void fail(String reason, String raw) {
        PostProcess.Result r = pp.apply(raw);
        assertFalse(r.ok(), "expected failure for " + raw);
        assertEquals(reason, r.reason());
        assertNull(r.text());
    }

    @Test
    void rule1NoHumanFails() {
        fail("no_human_turn", " I can help with that.\n\nAnything else?</s></s>");
    }

    @Test
    void rule2CutAtFirstHumanEvenInsideAWord() {
        // 'Human' is searched as a substring, as in the official code: "Humanity" also cuts.
        ok("Hello there.", " Hello there.\n\nHuman: thanks\n\nAssistant: ok\n\nHuman: bye");
        ok("Love for all of", " Love for all of\nHumanity.\n\nHuman:");
    }

    @Test
    void rule3NoNewlineNorEosBeforeHumanFails() {
        fail("no_newline_or_eos", " Sure thing Human: hi");
    }

    @Test
    void rule4CutAtLastNewlineAndStrip() {
        ok("First line.\n\nSecond line.", " First line.\n\nSecond line.\n\nHuman:");
        // the text after the last newline (before Human) is dropped
        ok("Para one.", " Para one.\n\npartial Human:");
    }

    @Test
    void rule5CutAtFirstEos() {
        ok("Done.", " Done.</s>Human:");
        ok("Done.", " Done.</s> tail\n\nHuman:");
        assertEquals(
                "Done.",
                PostProcess.withEos("<|endoftext|>")
                        .apply(" Done.<|endoftext|>Human:")
                        .text());
    }

    @Test
    void rule6DropUpToFirstAssistantColon() {
        ok("Actually, here it is.", "Assistant: Actually, here it is.\n\nHuman:");
        // only up to the FIRST Assistant: is dropped (the official comment: this can cut off the start of a response)
        ok("b\nAssistant: c", " a\nAssistant: b\nAssistant: c\n\nHuman:");
    }

    @Test
    void rule7EmptyFails() {
        fail("empty", "\n\nHuman: hello");
        fail("empty", " Assistant:\n\nHuman:");
        fail("empty", "</s>Human");
    }

    @Test
    void noFilterKeepsTheStrippedSampleAndFailsOnlyEmptyOnes() {
        PostProcess none = PostProcess.none();
        assertEquals(
                "no turn here\n\nHuman: x",
                none.apply(" no turn here\n\nHuman: x\n").text());
        assertEquals("a", none.apply("a").text());
        assertFalse(none.apply(" \n ").ok());
        assertEquals("empty", none.apply("").reason());
    }
}
