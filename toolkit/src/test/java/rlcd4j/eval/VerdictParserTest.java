package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class VerdictParserTest {
    @Test
    void leadingLabelsDecide() {
        assertEquals("A", VerdictParser.answer("(A)"));
        assertEquals("A", VerdictParser.answer("(A) is more helpful because (B) is rude."));
        assertEquals("A", VerdictParser.answer("Response (A) is better."));
        assertEquals("B", VerdictParser.answer("(B) is clearly better than (A)."));
        assertEquals("B", VerdictParser.answer("Response (B)"));
    }

    @Test
    void noStripBeforeTheLeadingRule() {
        // " (A)" does not start with "(A)" and has no "However": undecided, as in the script.
        assertNull(VerdictParser.answer(" (A)"));
        assertNull(VerdictParser.answer("The answer is (A)."));
        assertNull(VerdictParser.answer("response (A)")); // case-sensitive
    }

    @Test
    void howeverRuleTakesTheSingleRemainingLabel() {
        assertEquals("B", VerdictParser.answer("Both responses are flawed. However, (B) is less harmful."));
        // (A) before "However" is ignored; "than (A)" after it is removed.
        assertEquals("B", VerdictParser.answer("It is rude... I think (A) fails. However, (B) is better than (A)."));
        assertEquals("A", VerdictParser.answer("Neither is ideal. However, (A) is more acceptable than (B)."));
        // Only the text from the FIRST "However" counts.
        assertEquals("A", VerdictParser.answer("Hmm. However (A). However (A) again."));
    }

    @Test
    void howeverWithBothOrNeitherIsUndecided() {
        assertNull(VerdictParser.answer("Hard to say. However, (A) and (B) are both fine."));
        assertNull(VerdictParser.answer("Hard to say. However, neither is good."));
        assertNull(VerdictParser.answer("Hard to say. However, nothing is better than (A)."));
        assertNull(VerdictParser.answer("however, (A)")); // case-sensitive "However"
    }

    @Test
    void undecidedScoresHalf() {
        assertEquals(0.5, VerdictParser.scoreForFirst("I cannot decide."));
        assertEquals(1.0, VerdictParser.scoreForFirst("(A)"));
        assertEquals(0.0, VerdictParser.scoreForFirst("Response (B) is better."));
        Verdict v = Verdict.fromText("Hmm. However, (B).");
        assertEquals("B", v.answer());
        assertEquals(0.0, v.probFirst());
        assertEquals(0.0, v.scoreFirst());
        assertEquals(0.5, Verdict.fromText("").scoreFirst());
    }
}
