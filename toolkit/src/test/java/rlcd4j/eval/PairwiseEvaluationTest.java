package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import rlcd4j.eval.PairwiseEvaluation.Config;
import rlcd4j.eval.PairwiseEvaluation.Order;
import rlcd4j.util.PythonRandom;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

class PairwiseEvaluationTest {
    /** A scripted judge for the protocol tests: decides from the two texts; records every call. */
    static final class ScriptedJudge implements Judge {
        final List<String[]> calls = new ArrayList<>();
        final BiFunction<String, String, String> rule;

        ScriptedJudge(BiFunction<String, String, String> rule) {
            this.rule = rule;
        }

        @Override
        public Verdict judge(String instruction, String first, String second) {
            calls.add(new String[] {first, second});
            return Verdict.fromText(rule.apply(first, second));
        }

        @Override
        public String name() {
            return "scripted";
        }
    }

    private static Table outputs(String model, String... outs) {
        List<String> prompts = new ArrayList<>(), ids = new ArrayList<>();
        for (int i = 0; i < outs.length; i++) {
            prompts.add("Human: q" + i + "\n\nAssistant:");
            ids.add("p" + i);
        }
        return Outputs.of(model, ids, prompts, List.of(outs));
    }

    @Test
    void bothOrdersTurnAPositionalJudgeIntoTies() {
        Table a = outputs("rlcd", "x", "y", "z", "w"), b = outputs("rlaif", "1", "2", "3", "4");
        ScriptedJudge alwaysFirst = new ScriptedJudge((f, s) -> "(A)");
        var r = PairwiseEvaluation.of(a, b, alwaysFirst, Config.defaults().withResamples(200))
                .run();
        assertEquals(8, alwaysFirst.calls.size());
        Table s = r.summary();
        assertEquals(0.5, s.doubleColumn("win_rate").get(0), 1e-12);
        assertEquals(1.0, s.doubleColumn("flip_rate").get(0), 1e-12);
        assertEquals(1.0, s.doubleColumn("first_position_rate").get(0), 1e-12);
        assertEquals(4, s.intColumn("ties").get(0));
        assertTrue(r.pairs().booleanColumn("flipped").asList().stream().allMatch(x -> x));
    }

    @Test
    void consistentJudgeCountsWinsAndPartialUndecided() {
        // A wins where its text contains "good"; pair p2 the judge can't decide when A is shown first.
        Table a = outputs("rlcd", "good one", "bad", "good two", "good three"),
                b = outputs("rlaif", "meh", "good", "meh", "meh");
        ScriptedJudge j = new ScriptedJudge((f, s) -> f.equals("good two")
                ? "Both are fine."
                : f.contains("good") ? "(A)" : s.contains("good") ? "(B)" : "?");
        var r = PairwiseEvaluation.of(a, b, j, Config.defaults().withResamples(200))
                .run();
        assertEquals(
                List.of(1.0, 0.0, 0.75, 1.0), r.pairs().doubleColumn("score").asList());
        assertEquals(
                List.of("A", "B", "?", "A"),
                r.pairs().stringColumn("answer_a_first").asList());
        assertEquals(
                List.of("B", "A", "B", "B"),
                r.pairs().stringColumn("answer_b_first").asList());
        Table s = r.summary();
        assertEquals(2.75 / 4, s.doubleColumn("win_rate").get(0), 1e-12);
        assertEquals(0.0, s.doubleColumn("flip_rate").get(0), 1e-12);
        // 7 decided judgements, 3 won by (A)
        assertEquals(3.0 / 7, s.doubleColumn("first_position_rate").get(0), 1e-12);
        assertEquals(1.0 / 8, s.doubleColumn("undecided_rate").get(0), 1e-12);
        assertEquals("rlcd", s.stringColumn("model_a").get(0));
        assertEquals(3, s.intColumn("wins_a").get(0));
    }

    @Test
    void flipRateCountsOnlyPairsDecidedInBothOrders() {
        // p0 flips (A first: A, B first: A); p1 agrees; p2 is undecided in one order; p3 in both.
        Table a = outputs("rlcd", "flip", "good", "half", "none"), b = outputs("rlaif", "x", "y", "z", "w");
        ScriptedJudge j = new ScriptedJudge((f, s) -> {
            String mine = f.length() > 1 ? f : s;
            boolean aFirst = f.equals(mine);
            return switch (mine) {
                case "flip" -> "(A)";
                case "good" -> aFirst ? "(A)" : "(B)";
                case "half" -> aFirst ? "(A)" : "no idea";
                default -> "no idea";
            };
        });
        var r = PairwiseEvaluation.of(a, b, j, Config.defaults().withResamples(100))
                .run();
        assertEquals(
                List.of(true, false, false, false),
                r.pairs().booleanColumn("flipped").asList());
        // 2 pairs were decided in both orders (p0, p1) and 1 of them flipped; undecided pairs cannot flip.
        assertEquals(0.5, r.summary().doubleColumn("flip_rate").get(0), 1e-12);
        assertEquals(3.0 / 8, r.summary().doubleColumn("undecided_rate").get(0), 1e-12);
        assertEquals(0, r.summary().intColumn("failed_judgements").get(0));

        // No pair decided in both orders: no flip rate to report (not 0).
        ScriptedJudge undecided = new ScriptedJudge((f, s) -> "no idea");
        Table none = PairwiseEvaluation.of(a, b, undecided, Config.defaults().withResamples(100))
                .run()
                .summary();
        assertTrue(none.doubleColumn("flip_rate").isMissing(0));
    }

    @Test
    void failedJudgementsAreUndecidedCountedAndExplained() {
        Table a = outputs("rlcd", "x", "y"), b = outputs("rlaif", "1", "2");
        Judge j = new Judge() {
            @Override
            public Verdict judge(String instruction, String first, String second) {
                return first.equals("y") ? Verdict.failed("truncated", "(A) bec") : Verdict.fromText("(A)");
            }

            @Override
            public String name() {
                return "flaky";
            }
        };
        var r = PairwiseEvaluation.of(a, b, j, Config.defaults().withResamples(100))
                .run();
        assertEquals(List.of(0.5, 0.25), r.pairs().doubleColumn("score").asList());
        assertEquals(
                List.of("", "A first: truncated"),
                r.pairs().stringColumn("problem").asList());
        assertEquals(1, r.summary().intColumn("failed_judgements").get(0));
        assertEquals(0.25, r.summary().doubleColumn("undecided_rate").get(0), 1e-12);
    }

    @Test
    void randomOrderReproducesThePapersOrders() {
        // Python: random.seed(0); [random.random() for _ in range(5)] = 0.844, 0.758, 0.421, 0.259, 0.511
        // -> d1_first = F, F, T, T, F; an "always (A)" judge then gives A the scores 0, 0, 1, 1, 0.
        Table a = outputs("rlcd", "a0", "a1", "a2", "a3", "a4"), b = outputs("rlaif", "b0", "b1", "b2", "b3", "b4");
        ScriptedJudge j = new ScriptedJudge((f, s) -> "(A)");
        var r = PairwiseEvaluation.of(
                        a, b, j, Config.defaults().withOrder(Order.RANDOM).withResamples(200))
                .run();
        assertEquals(
                List.of(0.0, 0.0, 1.0, 1.0, 0.0),
                r.pairs().doubleColumn("score").asList());
        assertEquals("b0", j.calls.get(0)[0]);
        assertEquals("a2", j.calls.get(2)[0]);
        assertEquals(5, j.calls.size());
        assertTrue(r.summary().doubleColumn("flip_rate").isMissing(0)); // not measured with one order
    }

    @Test
    void pythonRandomMatchesCPython() {
        PythonRandom r = new PythonRandom(0);
        double[] expected = {
            0.8444218515250481, 0.7579544029403025, 0.420571580830845, 0.25891675029296335, 0.5112747213686085
        };
        for (double e : expected) assertEquals(e, r.random(), 0.0);
        for (int i = 5; i < 999; i++) r.random();
        assertEquals(0.4804125346981437, r.random(), 0.0); // the 1000th value
        assertEquals(0.6394267984578837, new PythonRandom(42).random(), 0.0);
    }

    @Test
    void joinsOnIdAndRejectsMismatches() {
        Table a = outputs("rlcd", "good", "bad");
        Table b = Outputs.of(
                "rlaif",
                List.of("p1", "p0"),
                List.of("Human: q1\n\nAssistant:", "Human: q0\n\nAssistant:"),
                List.of("good", "meh"));
        ScriptedJudge j = new ScriptedJudge((f, s) -> f.contains("good") && !s.contains("good")
                ? "(A)"
                : s.contains("good") && !f.contains("good") ? "(B)" : "tie");
        var r = PairwiseEvaluation.of(a, b, j, Config.defaults().withResamples(100))
                .run();
        assertEquals(List.of(1.0, 0.0), r.pairs().doubleColumn("score").asList()); // p0: good vs meh; p1: bad vs good

        Table c = outputs("rlaif", "x", "y", "z");
        RlcdException e = assertThrows(
                RlcdException.class, () -> PairwiseEvaluation.of(a, c, j).run());
        assertTrue(e.getMessage().contains("in B only: [p2]"), e.getMessage());
        Table d = Outputs.of(
                "rlaif", List.of("p0", "p1"), List.of("other", "Human: q1\n\nAssistant:"), List.of("x", "y"));
        assertTrue(assertThrows(
                        RlcdException.class,
                        () -> PairwiseEvaluation.of(a, d, j).run())
                .getMessage()
                .contains("id 'p0'"));
        assertThrows(
                RlcdException.class, () -> PairwiseEvaluation.of(a, b, null).run());
    }
}
