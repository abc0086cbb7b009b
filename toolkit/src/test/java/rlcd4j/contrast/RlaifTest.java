package rlcd4j.contrast;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.SharedData;
import rlcd4j.util.RlaifLabel;

class RlaifTest {
    @Test
    void scoringPromptIsStringExact() {
        String prompt =
                HhRlhf.readStrict(SharedData.harmlessTest()).rows().get(1000).prompt();
        String built = RlaifPrompt.build(prompt, AttributeSpec.harmlessness().instruction(0), " I can try. \n", "No.");
        assertEquals(ExpectedFromPython.RLAIF_PROMPT_1000, built);
    }

    @Test
    void probBIsScipySoftmax() {
        // scipy.special.softmax([a, b])[1], printed by CPython
        assertEquals(0.1480471980316895, RlaifLabel.probB(1.5, -0.25));
        assertEquals(0.5, RlaifLabel.probB(10.0, 10.0));
        assertEquals(0.9990889488055994, RlaifLabel.probB(-3.0, 4.0));
        assertEquals(1, RlaifLabel.preference(0.5));
        assertEquals(2, RlaifLabel.preference(0.5000001));
        assertEquals(29871L, RlaifLabel.lastTokenId(new long[] {1, 29871}));
    }

    @Test
    void prefixedResponseForOutlines() {
        assertEquals(
                "Here is a possible outline:\n\n1. A hero.",
                RlaifPrompt.withPrefix(" Here is a possible outline:\n\n1.", "A hero."));
        assertEquals("A hero.", RlaifPrompt.withPrefix("", "A hero."));
    }
}
