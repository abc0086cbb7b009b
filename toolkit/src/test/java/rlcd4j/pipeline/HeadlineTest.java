package rlcd4j.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import rlcd4j.eval.WinRate;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class HeadlineTest {
    static Table pm() {
        return Table.create(
                "pm",
                IntColumn.create("pairs", 8, 8),
                DoubleColumn.create("accuracy", 0.75, 0.25),
                StringColumn.create("preference_model", "pm-rlcd", "pm-rlaif"));
    }

    static Table comparisons() {
        return Table.create(
                "c",
                StringColumn.create("model_a", "ppo-rlcd", "ppo-rlcd"),
                StringColumn.create("model_b", "ppo-rlaif", "ppo-rlaif"),
                StringColumn.create("judge", "ground-truth", "local model (base)"),
                IntColumn.create("n", 100, 100),
                DoubleColumn.create("win_rate", 0.69, 0.5),
                DoubleColumn.create("ci_low", 0.61, 0.5),
                DoubleColumn.create("ci_high", 0.77, 0.5));
    }

    @Test
    void everyHeadlineFigureHasItsInterval() {
        Table premise = Table.create(
                "premise",
                DoubleColumn.create("score_plus", 1, 1, 0.5, 0, 1, 0.75),
                DoubleColumn.create("score_minus", 0, 1, 0.5, 0.5, 0, 0));
        Table h = Headline.of(premise, pm(), comparisons(), "ground-truth");
        assertEquals(4, h.rowCount(), "premise gap, two accuracies, the main judge's one win rate: " + h.print());

        assertEquals(Headline.PREMISE_GAP, h.stringColumn("figure").get(0));
        assertEquals(Headline.SCORE, h.stringColumn("unit").get(0));
        assertEquals(6, h.intColumn("n").get(0));
        double gap = (1 + 0 + 0 - 0.5 + 1 + 0.75) / 6;
        assertEquals(gap, h.doubleColumn("value").get(0), 1e-12);
        double lo = h.doubleColumn("ci_low").get(0),
                hi = h.doubleColumn("ci_high").get(0);
        assertTrue(lo < gap && gap < hi && lo >= -1 && hi <= 1, h.print());

        // the accuracy's interval is the bootstrap of 6 agreements and 2 disagreements
        WinRate w = WinRate.of(new double[] {1, 1, 1, 1, 1, 1, 0, 0});
        assertEquals("pm-rlcd accuracy", h.stringColumn("figure").get(1));
        assertEquals(0.75, h.doubleColumn("value").get(1));
        assertEquals(w.ciLow(), h.doubleColumn("ci_low").get(1));
        assertEquals(w.ciHigh(), h.doubleColumn("ci_high").get(1));

        assertEquals("ppo-rlcd vs ppo-rlaif", h.stringColumn("figure").get(3));
        assertEquals(0.61, h.doubleColumn("ci_low").get(3));

        assertEquals("69.0% (95% CI 61.0% to 77.0%, n = 100)", Headline.describe(h, 3));
        assertTrue(Headline.describe(h, 0).startsWith("+0.375 (95% CI "), Headline.describe(h, 0));
        Table r = Headline.readable(h);
        assertEquals("75.0%", r.stringColumn("value").get(1));
    }

    @Test
    void withoutGroundTruthThereIsNoPremiseGap() {
        Table h = Headline.of(null, pm(), comparisons(), "local model (base)");
        assertEquals(3, h.rowCount(), h.print());
        assertEquals(0.5, h.doubleColumn("value").get(2));
    }
}
