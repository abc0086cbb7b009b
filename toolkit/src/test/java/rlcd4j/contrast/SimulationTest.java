package rlcd4j.contrast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static rlcd4j.contrast.ExpectedFromPython.DEV_RLCD_HEX;
import static rlcd4j.contrast.ExpectedFromPython.RESCORE_200;

import java.util.List;
import org.junit.jupiter.api.Test;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.OutlinePremises;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PromptSet;
import rlcd4j.data.SharedData;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/** The planned draws equal the official script's with --seed 0 (expected strings printed by CPython). */
class SimulationTest {
    static final PromptSet DEV =
            HhRlhf.readStrict(SharedData.harmlessTest()).dev().prompts("harmlessness");

    @Test
    void rlcdPairIndicesReproduceTheOfficialSeedZeroDraws() {
        List<PairRow> plan = Simulation.plan(DEV, AttributeSpec.harmlessness(), Method.RLCD, 0);
        assertEquals(1000, plan.size());
        StringBuilder hex = new StringBuilder();
        for (PairRow r : plan) hex.append(Integer.toHexString(r.pairIndex()));
        assertEquals(DEV_RLCD_HEX, hex.toString());
        PairRow first = plan.get(0);
        ContrastivePrompts.Contrast c = ContrastivePrompts.build(
                DEV.get(0).prompt(), AttributeSpec.harmlessness().pair(first.pairIndex()));
        assertEquals(c.positive(), first.positivePrompt());
        assertEquals(c.negative(), first.negativePrompt());
        assertEquals(DEV.get(0).prompt(), first.prompt());
        assertEquals(PairStatus.PLANNED, first.status());
    }

    @Test
    void rescoreDrawsChoiceThenShuffleLikeTheOfficialScript() {
        List<PairRow> plan = Simulation.plan(DEV.limit(200), AttributeSpec.harmlessness(), Method.RLCD_RESCORE, 0);
        StringBuilder s = new StringBuilder();
        for (PairRow r : plan) {
            s.append(Integer.toHexString(r.pairIndex())).append(r.aSource().equals("positive") ? "P" : "N");
            assertEquals(r.pairIndex(), r.instructionIndex(), "rescore uses the principle of the pair's index");
        }
        assertEquals(RESCORE_200, s.toString());
    }

    @Test
    void rlaifDrawsOneInstructionPerPromptAndUsesTheUnmodifiedPrompt() {
        List<PairRow> plan = Simulation.plan(DEV.limit(200), AttributeSpec.harmlessness(), Method.RLAIF, 0);
        StringBuilder s = new StringBuilder();
        for (PairRow r : plan) {
            s.append(Integer.toHexString(r.instructionIndex()));
            assertEquals(r.prompt(), r.positivePrompt());
            assertEquals(r.prompt(), r.negativePrompt());
            assertEquals(-1, r.pairIndex());
        }
        // the same stream as choice(range(16)) per prompt: the first 200 of the rlcd draws
        assertEquals(DEV_RLCD_HEX.substring(0, 200), s.toString());
    }

    @Test
    void dryRunTableHasTheSchemaAndOutlinePromptsKeepThePrefix() {
        Table t = Simulation.dryRun(OutlinePremises.bundled().limit(5), AttributeSpec.outline(), Method.RLCD, 0)
                .table();
        assertEquals(5, t.rowCount());
        assertEquals(rlcd4j.data.PairsTable.COLUMNS, t.columnNames());
        String pos = t.stringColumn("positive_prompt").get(0);
        assertTrue(
                pos.endsWith(".\n\nAssistant "
                        + AttributeSpec.outline()
                                .pair(t.intColumn("pair_index").getInt(0))
                                .positive() + ": Here is a possible outline:\n\n1."),
                pos);
        assertTrue(t.stringColumn("prompt").get(0).endsWith("\n\nAssistant: Here is a possible outline:\n\n1."));
    }

    @Test
    void scoredMethodsNeedInstructions() {
        AttributeSpec bare = AttributeSpec.of("x", List.of(DescriptionPair.pair("(a)", "(b)")));
        RlcdException e = assertThrows(RlcdException.class, () -> Simulation.plan(DEV.limit(2), bare, Method.RLAIF, 0));
        assertTrue(e.getMessage().contains("no RLAIF instructions"), e.getMessage());
        assertEquals(2, Simulation.plan(DEV.limit(2), bare, Method.RLCD, 0).size());
    }

    @Test
    void shardIsIdModN() {
        PromptSet s = DEV.shard(1, 4);
        assertEquals(250, s.size());
        assertTrue(s.entries().stream().allMatch(e -> e.id() % 4 == 1));
    }
}
