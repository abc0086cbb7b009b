package rlcd4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.contrast.Method;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PreferencePairs;
import rlcd4j.eval.JudgePrompt;
import rlcd4j.sandbox.GroundTruth;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** The reproduction notebooks' tables that need no model: the simulation summary and the final table. */
class ReproductionTest {
    @Test
    void theFinalTablePutsThisRunsWinRatesBesideThePapersAndWritesItsCsv(@TempDir Path dir) throws Exception {
        Reproduction repro = new Reproduction(RunFolder.at(dir), "unused", null, null);
        Table winRates = Table.create(
                "win rates",
                StringColumn.create(
                        "judge", "local:m/harmless", "local:m/harmless_helpful", "ground-truth", "local:m/harmless"),
                StringColumn.create("model_a", "ppo-rlcd", "ppo-rlcd", "ppo-rlcd", "ppo-rlcd"),
                StringColumn.create("model_b", "ppo-rlaif", "ppo-rlaif", "ppo-rlaif", "base"),
                DoubleColumn.create("win_rate", 0.6, 0.25, 0.5, 0.75));
        Reproduction.Judging judging = new Reproduction.Judging(
                List.of(JudgePrompt.Task.HARMLESS, JudgePrompt.Task.HARMLESS_HELPFUL),
                null,
                "m",
                GroundTruth.standard());
        List<Reproduction.Comparison> comparisons = List.of(
                new Reproduction.Comparison("ppo-rlcd", "ppo-rlaif"), new Reproduction.Comparison("ppo-rlcd", "base"));
        Table t = repro.finalTable("harmlessness", "smoke", judging, winRates, comparisons);
        assertEquals(
                List.of(
                        "comparison",
                        "Harm (this run)",
                        "Harm paper 7B",
                        "Harm paper 30B",
                        "HHelp (this run)",
                        "HHelp paper 7B",
                        "HHelp paper 30B",
                        "ground truth (sandbox)"),
                t.columnNames());
        assertEquals("RLCD vs RLAIF", t.stringColumn("comparison").get(0));
        assertEquals("60.0 / 40.0", t.stringColumn("Harm (this run)").get(0));
        assertEquals("25.0 / 75.0", t.stringColumn("HHelp (this run)").get(0));
        assertEquals("84.8 / 15.2", t.stringColumn("Harm paper 7B").get(0), "the paper's Table 3 GPT-4 figure");
        assertEquals("50.0 / 50.0", t.stringColumn("ground truth (sandbox)").get(0));
        assertEquals("RLCD vs base model (LLaMA)", t.stringColumn("comparison").get(1));
        assertEquals("75.0 / 25.0", t.stringColumn("Harm (this run)").get(1));
        assertEquals("", t.stringColumn("HHelp (this run)").get(1), "not judged");
        assertEquals("", t.stringColumn("Harm paper 7B").get(1), "not in the paper");
        assertTrue(Files.readString(dir.resolve("final-table.csv")).contains("RLCD vs RLAIF,60.0 / 40.0,84.8 / 15.2"));
    }

    @Test
    void theSimulationSummaryCountsKeptAndDroppedPairsPerMethod() {
        Table view = PreferencePairs.of(
                        "pairs", List.of("a", "b", "c"), List.of("x", "y", "z"), List.of("y", "x", "w"), new double[] {
                            1.0, 0.5, 0.9
                        })
                .table();
        view.stringColumn("status").set(2, PairStatus.DROPPED.id()); // the third prompt gave no pair
        Map<Method, PreferencePairs> byMethod = new LinkedHashMap<>();
        byMethod.put(Method.RLCD, PreferencePairs.fromTable(view));
        Table s = Reproduction.simulationSummary(byMethod, null);
        assertEquals("rlcd", s.stringColumn("method").get(0));
        assertEquals(2, s.intColumn("kept").get(0));
        assertEquals(1, s.intColumn("dropped").get(0));
        assertEquals(0.75, s.doubleColumn("mean_p_chosen").get(0), 1e-12);
        assertTrue(s.doubleColumn("label_accuracy_ground_truth").isMissing(0), "no ground truth given");
    }
}
