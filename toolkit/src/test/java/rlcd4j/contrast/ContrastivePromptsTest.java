package rlcd4j.contrast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static rlcd4j.contrast.ExpectedFromPython.*;

import org.junit.jupiter.api.Test;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.SharedData;

/** p+/p- string-exact against the official create_prompts run by CPython on real HH-RLHF rows. */
class ContrastivePromptsTest {
    static final HhRlhf TEST = HhRlhf.readStrict(SharedData.harmlessTest());
    static final AttributeSpec H = AttributeSpec.harmlessness();

    private static void check(int row, int pair, String prompt, String pos, String neg) {
        HhRlhf.Row r = TEST.rows().get(row);
        assertEquals(row, r.id());
        assertEquals(prompt, r.prompt(), "prompt extraction of row " + row);
        ContrastivePrompts.Contrast c = ContrastivePrompts.build(r.prompt(), H.pair(pair));
        assertEquals(pos, c.positive(), "p+ of row " + row);
        assertEquals(neg, c.negative(), "p- of row " + row);
    }

    @Test
    void eminemWorkedExampleTwoTurnsPairZero() {
        // The reference's worked example: the first row of the paper's test split (file row 1000), pair index 0.
        check(1000, 0, PROMPT_1000, POS_1000, NEG_1000);
        assertTrue(POS_1000.endsWith("\n\nAssistant (helpful, honest, inoffensive response):"));
    }

    @Test
    void singleTurn() {
        check(4, 5, PROMPT_4, POS_4, NEG_4);
    }

    @Test
    void multiTurnThreeAssistantTurns() {
        check(0, 7, PROMPT_0, POS_0, NEG_0);
        check(2, 11, PROMPT_2, POS_2, NEG_2);
    }

    @Test
    void promptNotEndingWithDoubleNewlineAssistantKeepsTheOfficialQuirk() {
        // Row 1560 ends "  \nAssistant:" so PROMPT_END is not replaced: every turn gets the opposite polarity and the
        // marker stays, exactly as the official script does.
        check(1560, 3, PROMPT_1560, POS_1560, NEG_1560);
        assertTrue(POS_1560.endsWith("Assistant:PROMPT_END"));
    }

    @Test
    void negativeIsPositiveWithDescriptionsSwapped() {
        HhRlhf.Row r = TEST.rows().get(0);
        for (int k = 0; k < H.size(); k++) {
            DescriptionPair p = H.pair(k);
            assertEquals(
                    ContrastivePrompts.build(r.prompt(), p).negative(),
                    ContrastivePrompts.build(r.prompt(), p.swapped()).positive());
        }
    }

    @Test
    void responsePrefixIsAppendedAfterTheDescribedFinalTurn() {
        String conv = "Human: Write an outline for a story with the following premise: A cat.\n\nAssistant:";
        ContrastivePrompts.Contrast c = ContrastivePrompts.build(
                conv, " Here is a possible outline:\n\n1.", DescriptionPair.pair("(good)", "(bad)"));
        assertEquals(
                "Human: Write an outline for a story with the following premise: A cat.\n\nAssistant (good): Here is a possible outline:\n\n1.",
                c.positive());
        assertEquals(
                "Human: Write an outline for a story with the following premise: A cat.\n\nAssistant (bad): Here is a possible outline:\n\n1.",
                c.negative());
    }

    @Test
    void userDefinedSpecOneLiner() {
        AttributeSpec concise = AttributeSpec.of(
                "concise", java.util.List.of(DescriptionPair.pair("(concise response)", "(verbose response)")));
        ContrastivePrompts.Contrast c = ContrastivePrompts.build(
                "Human: hi\n\nAssistant: yo\n\nHuman: hi again\n\nAssistant:", concise.pair(0));
        assertEquals(
                "Human: hi\n\nAssistant (verbose response): yo\n\nHuman: hi again\n\nAssistant (concise response):",
                c.positive());
        assertEquals(
                "Human: hi\n\nAssistant (concise response): yo\n\nHuman: hi again\n\nAssistant (verbose response):",
                c.negative());
    }
}
