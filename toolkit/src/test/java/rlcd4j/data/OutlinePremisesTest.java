package rlcd4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutlinePremisesTest {
    @Test
    void committedFileIsTheSeededGeneratorsOutput() {
        List<String> generated = OutlinePremises.generate(OutlinePremises.BUNDLED_SIZE, OutlinePremises.BUNDLED_SEED);
        PromptSet bundled = OutlinePremises.bundled();
        assertEquals(generated.size(), bundled.size());
        for (int i = 0; i < generated.size(); i++) {
            assertEquals(
                    OutlinePremises.conversation(generated.get(i)),
                    bundled.get(i).prompt(),
                    "premise " + i);
            assertEquals(i, bundled.get(i).id());
        }
    }

    @Test
    void premisesAreDistinctShortAndSeedDependent() {
        List<String> a = OutlinePremises.generate(300, 1);
        assertEquals(300, new HashSet<>(a).size());
        for (String p : a) {
            int words = p.split("\\s+").length;
            assertTrue(words >= OutlinePremises.MIN_WORDS && words <= OutlinePremises.MAX_WORDS, p);
            assertTrue(Character.isUpperCase(p.charAt(0)) && p.endsWith("."), p);
        }
        assertEquals(a, OutlinePremises.generate(300, 1));
        assertNotEquals(a, OutlinePremises.generate(300, 2));
    }

    @Test
    void promptFormat() {
        PromptSet.Entry e = OutlinePremises.bundled().get(0);
        assertEquals(
                "Human: Write an outline for a story with the following premise: "
                        + OutlinePremises.generate(1, 0).get(0) + "\n\nAssistant: Here is a possible outline:\n\n1.",
                e.policyPrompt());
    }
}
