package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** {@link Outputs#decode} end to end on the TinyStories-656K checkpoint. */
class DecodeTest {
    static CausalLM lm;
    static final List<String> IDS = List.of("a", "b", "c", "d", "e");
    static final List<String> PROMPTS = List.of(
            "\n\nHuman: Tell me a story about a cat.\n\nAssistant:",
            "\n\nHuman: What is a dog?\n\nAssistant:",
            "\n\nHuman: Once upon a time there was a girl named Lily. What did she do next?\n\nAssistant:",
            "\n\nHuman: Hi\n\nAssistant:",
            "\n\nHuman: Tom had a big red ball. He liked to play with it in the park.\n\nAssistant:");
    /** Short runs: the test suite shares two cores. */
    static final GenerationConfig CFG =
            GenerationConfig.evaluation().withMaxNewTokens(12).withSeed(7).withBatchSize(2);

    @BeforeAll
    static void load() {
        lm = CausalLM.load(Fixtures.tinyStories());
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    @Test
    void oneCleanedSamplePerPromptFromItsOwnSeed() {
        Table t = Outputs.decode(lm, "tiny", IDS, PROMPTS, CFG, null);
        assertEquals(List.of(Outputs.ID, Outputs.PROMPT, Outputs.MODEL, Outputs.OUTPUT), t.columnNames());
        assertEquals(IDS, t.stringColumn(Outputs.ID).asList());
        assertEquals(PROMPTS, t.stringColumn(Outputs.PROMPT).asList());
        assertEquals(List.of("tiny"), t.stringColumn(Outputs.MODEL).unique().asList());
        for (int i = 0; i < 2; i++) {
            // The same sample straight from the engine, with the prompt's derived seed, then the paper's clean-up.
            String expected = Outputs.clean(lm.generate(
                            List.of(PROMPTS.get(i)), CFG, new long[] {Outputs.promptSeed(CFG.seed(), IDS.get(i))})
                    .get(0)
                    .text());
            assertEquals(expected, t.stringColumn(Outputs.OUTPUT).get(i), "id " + IDS.get(i));
        }
        assertTrue(t.stringColumn(Outputs.OUTPUT).asList().stream().anyMatch(s -> !s.isEmpty()), t.print());

        // Same seed, other batch sizes: the same rows. Another seed: other samples.
        assertEquals(
                t.stringColumn(Outputs.OUTPUT).asList(),
                Outputs.decode(lm, "tiny", IDS, PROMPTS, CFG.withBatchSize(5), null)
                        .stringColumn(Outputs.OUTPUT)
                        .asList());
        assertNotEquals(
                t.stringColumn(Outputs.OUTPUT).asList().subList(0, 3),
                Outputs.decode(lm, "tiny", IDS.subList(0, 3), PROMPTS.subList(0, 3), CFG.withSeed(8), null)
                        .stringColumn(Outputs.OUTPUT)
                        .asList());
        assertNotEquals(Outputs.promptSeed(7, "a"), Outputs.promptSeed(7, "b"));
        assertNotEquals(Outputs.promptSeed(7, "a"), Outputs.promptSeed(8, "a"));
    }

    @Test
    void resumedRunAppendsOnlyMissingIdsAndEqualsAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole.jsonl");
        Table uninterrupted = Outputs.decode(lm, "tiny", IDS, PROMPTS, CFG, whole);
        assertEquals(5, lines(whole).size());
        assertEquals(
                uninterrupted.stringColumn(Outputs.OUTPUT).asList(),
                Outputs.readJsonl(whole)
                        .sortAscendingOn(Outputs.ID)
                        .stringColumn(Outputs.OUTPUT)
                        .asList());

        // "Interrupted" after 2 prompts, then rerun over all 5.
        Path f = dir.resolve("resumed.jsonl");
        Outputs.decode(lm, "tiny", IDS.subList(0, 2), PROMPTS.subList(0, 2), CFG, f);
        List<String> firstLines = lines(f);
        assertEquals(2, firstLines.size());
        Table resumed = Outputs.decode(lm, "tiny", IDS, PROMPTS, CFG.withBatchSize(3), f);
        List<String> all = lines(f);
        assertEquals(5, all.size());
        assertEquals(firstLines, all.subList(0, 2), "rows already there are kept as they were");
        assertEquals(
                uninterrupted.stringColumn(Outputs.OUTPUT).asList(),
                resumed.stringColumn(Outputs.OUTPUT).asList());
        assertTrue(
                all.get(0).contains("\"finish_reason\":") && all.get(0).contains("\"decoding\":{\"temperature\":1.0"),
                all.get(0));

        // A complete file: nothing decoded, nothing appended.
        byte[] before = Files.readAllBytes(f);
        assertEquals(
                uninterrupted.stringColumn(Outputs.OUTPUT).asList(),
                Outputs.decode(lm, "tiny", IDS, PROMPTS, CFG, f)
                        .stringColumn(Outputs.OUTPUT)
                        .asList());
        assertArrayEquals(before, Files.readAllBytes(f));

        // A crash in the middle of the last append: that line is dropped and decoded again.
        String text = Files.readString(f);
        Files.writeString(f, text.substring(0, text.length() - 30));
        Table repaired = Outputs.decode(lm, "tiny", IDS, PROMPTS, CFG, f);
        assertEquals(5, lines(f).size());
        assertEquals(
                uninterrupted.stringColumn(Outputs.OUTPUT).asList(),
                repaired.stringColumn(Outputs.OUTPUT).asList());
    }

    @Test
    void refusesToMixRunsInOneFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("o.jsonl");
        Outputs.decode(lm, "tiny", IDS.subList(0, 1), PROMPTS.subList(0, 1), CFG, f);
        RlcdException seed =
                assertThrows(RlcdException.class, () -> Outputs.decode(lm, "tiny", IDS, PROMPTS, CFG.withSeed(8), f));
        assertTrue(seed.getMessage().startsWith(f + ":1: decoded with"), seed.getMessage());
        RlcdException name = assertThrows(RlcdException.class, () -> Outputs.decode(lm, "other", IDS, PROMPTS, CFG, f));
        assertTrue(name.getMessage().contains("written for model 'tiny'"), name.getMessage());
        RlcdException prompt = assertThrows(
                RlcdException.class,
                () -> Outputs.decode(lm, "tiny", List.of("a"), List.of("\n\nHuman: changed\n\nAssistant:"), CFG, f));
        assertTrue(prompt.getMessage().contains("id 'a' was decoded for another prompt"), prompt.getMessage());
        assertEquals(1, lines(f).size(), "nothing was appended by the refused runs");
    }

    @Test
    void tableInputWithIntIdsAndResponsePrefix() {
        Table prompts = Table.create(
                "p",
                IntColumn.create("id", new int[] {10, 11}),
                StringColumn.create("prompt", PROMPTS.subList(0, 2)),
                StringColumn.create("response_prefix", List.of(" Here is a possible outline:\n\n1.", "")));
        Table t = Outputs.decode(lm, "tiny", prompts, CFG);
        assertEquals(List.of("10", "11"), t.stringColumn(Outputs.ID).asList());
        assertEquals(
                PROMPTS.subList(0, 2),
                t.stringColumn(Outputs.PROMPT).asList(),
                "the prompt column holds the conversation, not the prefix");
        String withPrefix = Outputs.clean(lm.generate(
                        List.of(PROMPTS.get(0) + " Here is a possible outline:\n\n1."),
                        CFG,
                        new long[] {Outputs.promptSeed(CFG.seed(), "10")})
                .get(0)
                .text());
        assertEquals(withPrefix, t.stringColumn(Outputs.OUTPUT).get(0));
    }

    @Test
    void promptsTooLongForTheContextFailBeforeDecoding() {
        String longPrompt = "\n\nHuman: " + "the cat sat on the mat. ".repeat(120) + "\n\nAssistant:";
        RlcdException e = assertThrows(
                RlcdException.class,
                () -> Outputs.decode(
                        lm, "tiny", List.of("ok", "long"), List.of(PROMPTS.get(0), longPrompt), CFG, null));
        assertTrue(e.getMessage().contains("ids long (") && e.getMessage().contains("context of 512"), e.getMessage());
        assertThrows(
                RlcdException.class,
                () -> Outputs.decode(lm, "tiny", List.of("x", "x"), PROMPTS.subList(0, 2), CFG, null));
    }

    private static List<String> lines(Path f) throws Exception {
        return Files.readAllLines(f, StandardCharsets.UTF_8).stream()
                .filter(s -> !s.isBlank())
                .toList();
    }
}
