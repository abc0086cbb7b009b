package rlcd4j.contrast;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;

class AttributeSpecTest {
    @Test
    void builtInsHaveThePapersCounts() {
        AttributeSpec h = AttributeSpec.harmlessness();
        assertEquals(16, h.size());
        assertEquals(16, h.instructions().size());
        assertEquals(1, AttributeSpec.helpfulness().size());
        assertEquals(1, AttributeSpec.helpfulness().instructions().size());
        assertEquals(3, AttributeSpec.outline().size());
        assertEquals(3, AttributeSpec.outline().instructions().size());
    }

    @Test
    void verbatimTextsFromTheOfficialCode() {
        AttributeSpec h = AttributeSpec.harmlessness();
        assertEquals(
                new DescriptionPair(
                        "(helpful, honest, inoffensive response)", "(unhelpful, dishonest, toxic response)"),
                h.pair(0));
        assertEquals(
                new DescriptionPair("(politically correct response)", "(racist, sexist, socially biased response)"),
                h.pair(11));
        assertEquals(
                new DescriptionPair("(ethically and morally aware response)", "(unethical and immoral response)"),
                h.pair(15));
        assertEquals(h.pair(4).negative(), h.pair(15).negative(), "the official list repeats i=4's negative at i=15");
        assertEquals("Please choose the response that is the most helpful, honest, and harmless.", h.instruction(0));
        assertTrue(h.instruction(3).contains("overly-reactive of accusatory."));
        for (int i = 0; i < 16; i++) {
            boolean curly = h.instruction(i).indexOf('\u2019') >= 0;
            assertEquals(i == 1 || i == 2 || i == 4 || i == 6, curly, "U+2019 in principle " + i);
            assertFalse(h.instruction(i).contains("'"), "no ASCII apostrophe in principle " + i);
        }
        assertEquals(
                new DescriptionPair("(giving a helpful response)", "(giving an unhelpful response)"),
                AttributeSpec.helpfulness().pair(0));
        assertEquals(
                "Please choose the response that is more helpful.",
                AttributeSpec.helpfulness().instruction(0));
    }

    @Test
    void rescoreInstructionIndex() {
        assertEquals(7, AttributeSpec.harmlessness().instructionIndexFor(7));
        AttributeSpec shared = AttributeSpec.of(
                        "c", List.of(DescriptionPair.pair("(a)", "(b)"), DescriptionPair.pair("(c)", "(d)")))
                .withInstructions("Choose the better one.");
        assertEquals(0, shared.instructionIndexFor(1));
    }

    @Test
    void taskNames() {
        assertEquals("harmlessness", AttributeSpec.canonicalTask("harmless"));
        assertEquals("helpfulness", AttributeSpec.canonicalTask("Helpfulness"));
        assertThrows(RlcdException.class, () -> AttributeSpec.canonicalTask("funny"));
    }

    @Test
    void loadsUserFilesAndNamesTheBadLine(@TempDir Path dir) throws Exception {
        Path tsv = dir.resolve("concise.tsv");
        Files.writeString(tsv, "# mine\npositive\tnegative\n(concise response)\t(verbose response)\n(short)\t(long)\n");
        Path ins = dir.resolve("concise.txt");
        Files.writeString(ins, "Choose the more concise response.\n");
        AttributeSpec s = AttributeSpec.load("concise", tsv, ins);
        assertEquals(2, s.size());
        assertEquals("(long)", s.pair(1).negative());
        assertEquals(0, s.instructionIndexFor(1));

        Files.writeString(tsv, "positive\tnegative\n(a)\t(b)\n(only one field)\n");
        RlcdException e = assertThrows(RlcdException.class, () -> AttributeSpec.load("x", tsv, null));
        assertTrue(e.getMessage().startsWith(tsv + ":3: "), e.getMessage());

        Files.writeString(tsv, "pos\tneg\n(a)\t(b)\n");
        e = assertThrows(RlcdException.class, () -> AttributeSpec.load("x", tsv, null));
        assertTrue(e.getMessage().startsWith(tsv + ":1: expected the header"), e.getMessage());

        Files.writeString(tsv, "positive\tnegative\n(a)\t(b)\n(c)\t(d)\n(e)\t(f)\n");
        Files.writeString(ins, "one\ntwo\n");
        e = assertThrows(RlcdException.class, () -> AttributeSpec.load("x", tsv, ins));
        assertTrue(e.getMessage().contains("2 instructions for 3 description pairs"), e.getMessage());
    }
}
