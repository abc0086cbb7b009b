package rlcd4j.contrast;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PairsTable;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.data.SimulationLog;
import rlcd4j.engine.CausalLM;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.util.PostProcess;
import rlcd4j.util.RlaifLabel;
import rlcd4j.util.RlcdException;
import rlcd4j.util.Seeds;
import tech.tablesaw.api.Table;

/**
 * The generation path end to end on TinyStories-656K: as it is (never writes "Human": every sample fails the paper's
 * post-processing) and fine-tuned for a few steps to hand the turn back ({@link TurnTakingModel}: pairs are kept).
 * Prompts: harmless-base test rows 0..7 (row 3 is too long for the 512-position context).
 */
class SimulatorTest {
    static CausalLM tiny, turnTaker;
    static PromptSet prompts;
    static ProgressSink previousSink;
    static final Simulator.Options SMALL =
            Simulator.Options.defaults().withMaxNewTokens(24).withBatchSize(4).withSeed(1);

    @BeforeAll
    static void setUp() {
        previousSink = Progress.setSink(ProgressSink.SILENT);
        tiny = CausalLM.load(Fixtures.tinyStories());
        turnTaker = TurnTakingModel.train(30, 120);
        prompts = HhRlhf.read(Fixtures.hhHarmlessTest()).ids(0, 8).prompts("harmlessness");
        assertTrue(TurnTakingModel.TRAIN_FROM >= 8, "simulated rows are not training rows");
    }

    @AfterAll
    static void tearDown() {
        Progress.setSink(previousSink);
        tiny.close();
        turnTaker.close();
    }

    static List<PairRow> rows(PreferencePairs t) {
        return t.rows();
    }

    @Test
    void allThreeMethodsGivePairsTablesWithKeptPairs() {
        PromptSet six = prompts.limit(6);
        AttributeSpec spec = AttributeSpec.harmlessness();
        List<PairRow> rlcd = rows(Simulator.run(turnTaker, six, spec, Method.RLCD, SMALL));
        List<PairRow> rescore = rows(Simulator.run(turnTaker, six, spec, Method.RLCD_RESCORE, SMALL));
        PreferencePairs rlaifPairs = Simulator.run(turnTaker, six, spec, Method.RLAIF, SMALL);
        List<PairRow> rlaif = rows(rlaifPairs);
        Table rlaifTable = rlaifPairs.table();
        assertEquals(PairsTable.COLUMNS, rlaifTable.columnNames());
        assertEquals("harmlessness rlaif", rlaifTable.name());
        for (List<PairRow> t : List.of(rlcd, rescore, rlaif)) {
            assertEquals(List.of(0, 1, 2, 3, 4, 5), t.stream().map(PairRow::id).toList());
            for (PairRow r : t) {
                if (!r.ok()) continue;
                assertFalse(r.chosen().isEmpty() || r.rejected().isEmpty(), r.toString());
                assertFalse(
                        r.chosen().contains("Human") || r.rejected().contains("Human"),
                        "post-processing cuts at Human");
                assertTrue(r.attempts() >= 2, "two sides, at least one sample each");
            }
        }
        // Row 3's p+ does not fit the context with 24 new tokens: an error row naming the prompt and the lengths.
        for (List<PairRow> t : List.of(rlcd, rescore)) {
            PairRow r = t.get(3);
            assertEquals(PairStatus.ERROR, r.status());
            assertTrue(
                    r.error()
                            .matches(
                                    "prompt id 3: p\\+ has \\d+ tokens; with 24 new tokens that is \\d+ > the model's context of 512 positions"),
                    r.error());
            assertEquals(0, r.attempts());
        }
        long keptRlcd = rlcd.stream().filter(PairRow::ok).count();
        assertTrue(keptRlcd >= 3, "the turn-taking model keeps most pairs: " + rlcd);

        // RLCD: o+ chosen, hard label.
        for (PairRow r : rlcd)
            if (r.ok()) {
                assertEquals(1.0, r.pChosen());
                assertEquals("", r.chosenSlot());
            }

        // RLCD-Rescore: A/B are the samples of p+ and p- in the planned order. Rows whose sides passed at the first
        // attempt are checked by sampling p+ and p- again with their seeds.
        int rechecked = 0;
        for (PairRow s : rescore) {
            if (!s.ok() || s.attempts() != 2) continue;
            List<String> sides = List.of(s.positivePrompt(), s.negativePrompt());
            long[] seeds = {Seeds.sampleSeed(1, s.id(), 0, 1), Seeds.sampleSeed(1, s.id(), 1, 1)};
            var gens = turnTaker.generate(sides, SMALL.generation(), seeds);
            PostProcess post = PostProcess.withEos(turnTaker
                    .tokenizer()
                    .decodeWithSpecial(new long[] {turnTaker.tokenizer().eosId()}));
            String pos = post.apply(gens.get(0).rawText()).text(),
                    neg = post.apply(gens.get(1).rawText()).text();
            boolean posIsA = s.aSource().equals("positive");
            assertEquals(posIsA ? pos : neg, s.outputA());
            assertEquals(posIsA ? neg : pos, s.outputB());
            rechecked++;
        }
        assertTrue(rechecked >= 2, "rescore rows rechecked: " + rechecked);
        // Scored rows: P(B) from the two logits, the chosen slot and p_chosen from P(B), and the logits are the
        // model's.
        int checked = 0;
        for (PairRow r : concat(rescore, rlaif)) {
            if (!r.ok()) continue;
            assertEquals(RlaifLabel.probB(r.aLogit(), r.bLogit()), r.pB(), 1e-12);
            assertEquals(r.pB() > 0.5 ? "B" : "A", r.chosenSlot());
            assertEquals(Math.max(r.pB(), 1 - r.pB()), r.pChosen(), 1e-12);
            if (checked++ < 2) {
                String text =
                        RlaifPrompt.build(r.prompt(), spec.instruction(r.instructionIndex()), r.outputA(), r.outputB());
                float[] logits = turnTaker.nextTokenLogits(List.of(text))[0];
                assertEquals(logits[(int) turnTaker.tokenizer().lastTokenId("A")], r.aLogit(), 1e-4);
                assertEquals(logits[(int) turnTaker.tokenizer().lastTokenId("B")], r.bLogit(), 1e-4);
            }
        }
        assertTrue(checked >= 3, "scored pairs were kept");
        // RLAIF samples the unmodified prompt; row 3 fits for generation, but its scoring prompt (the prompt plus both
        // outputs) does not.
        for (PairRow r : rlaif) assertEquals(r.prompt(), r.positivePrompt());
        assertEquals(PairStatus.ERROR, rlaif.get(3).status(), rlaif.get(3).toString());
        assertTrue(
                rlaif.get(3).error().startsWith("prompt id 3: the RLAIF scoring prompt has "),
                rlaif.get(3).error());
        assertTrue(rlaif.get(3).attempts() >= 2);
    }

    private static List<PairRow> concat(List<PairRow> a, List<PairRow> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }

    @Test
    void samplesThatNeverEndTheTurnAreDroppedWithTheirReasons() {
        PromptSet two = prompts.limit(2);
        List<PairRow> rows = rows(Simulator.run(
                tiny,
                two,
                AttributeSpec.harmlessness(),
                Method.RLCD,
                Simulator.Options.defaults().withMaxNewTokens(8).withBatchSize(4)));
        String five = String.join(", ", java.util.Collections.nCopies(5, "no_human_turn"));
        for (PairRow r : rows) {
            assertEquals(PairStatus.DROPPED, r.status());
            assertEquals(10, r.attempts(), "5 samples per side, the paper's retries");
            assertEquals("positive side (p+) failed post-processing 5 times: " + five, r.error());
            assertEquals("", r.chosen());
        }
        rows = rows(Simulator.run(
                tiny,
                two,
                AttributeSpec.harmlessness(),
                Method.RLAIF,
                Simulator.Options.defaults().withMaxNewTokens(8).withMaxAttempts(2)));
        for (PairRow r : rows) {
            assertEquals(4, r.attempts());
            assertEquals("sample A failed post-processing 2 times: no_human_turn, no_human_turn", r.error());
        }
    }

    @Test
    void sameSeedSameTableWhateverTheBatchSize() {
        PromptSet five = prompts.limit(5);
        AttributeSpec spec = AttributeSpec.harmlessness();
        List<PairRow> a = rows(Simulator.run(turnTaker, five, spec, Method.RLCD, SMALL));
        List<PairRow> b = rows(Simulator.run(turnTaker, five, spec, Method.RLCD, SMALL));
        List<PairRow> c = rows(Simulator.run(turnTaker, five, spec, Method.RLCD, SMALL.withBatchSize(3)));
        List<PairRow> d = rows(Simulator.run(turnTaker, five, spec, Method.RLCD, SMALL.withSeed(2)));
        assertEquals(a, b);
        assertEquals(a, c, "each sample has its own seed: batching does not change it");
        assertNotEquals(
                a.stream().map(PairRow::chosen).toList(),
                d.stream().map(PairRow::chosen).toList());
    }

    /** A sink that "kills" the run after {@code n} finished pairs. */
    static final class Killer implements ProgressSink {
        final int n;

        Killer(int n) {
            this.n = n;
        }

        public void started(Progress p) {}

        public void updated(Progress p) {
            if (p.label().startsWith("simulate") && p.done() >= n)
                throw new IllegalStateException("killed after " + n + " pairs");
        }

        public void finished(Progress p) {}
    }

    @Test
    void aKilledRunResumesWithoutLosingOrDuplicatingPairs(@TempDir Path dir) throws Exception {
        AttributeSpec spec = AttributeSpec.harmlessness();
        Path whole = dir.resolve("whole.jsonl"), killed = dir.resolve("killed.jsonl");
        PreferencePairs expected =
                Simulator.run(turnTaker, prompts, spec, Method.RLCD_RESCORE, SMALL.withOutput(whole));
        assertEquals(8, SimulationLog.read(whole).size());

        Progress.setSink(new Killer(3));
        try {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> Simulator.run(turnTaker, prompts, spec, Method.RLCD_RESCORE, SMALL.withOutput(killed)));
            assertEquals("killed after 3 pairs", e.getMessage());
        } finally {
            Progress.setSink(ProgressSink.SILENT);
        }
        assertEquals(3, SimulationLog.read(killed).size(), "every finished pair was written at once");
        // and a kill in the middle of writing a line leaves a torn line
        Files.writeString(killed, "{\"id\": 7, \"task\": \"harml", StandardOpenOption.APPEND);

        PreferencePairs resumed =
                Simulator.run(turnTaker, prompts, spec, Method.RLCD_RESCORE, SMALL.withOutput(killed));
        assertEquals(rows(expected), rows(resumed), "the resumed run's table equals the uninterrupted run's");
        Comparator<PairRow> byId = Comparator.comparingInt(PairRow::id);
        List<PairRow> file = SimulationLog.read(killed).stream().sorted(byId).toList();
        assertEquals(SimulationLog.read(whole).stream().sorted(byId).toList(), file);
        assertEquals(
                IntStream.range(0, 8).boxed().toList(),
                file.stream().map(PairRow::id).toList(),
                "no loss, no duplicate");

        // Running again over a finished table generates nothing and returns the same table.
        long size = Files.size(killed);
        assertEquals(
                rows(expected),
                rows(Simulator.run(turnTaker, prompts, spec, Method.RLCD_RESCORE, SMALL.withOutput(killed))));
        assertEquals(size, Files.size(killed));
    }

    @Test
    void resumingRefusesAnotherTaskMethodSeedOrPromptSet(@TempDir Path dir) {
        Simulator.Options quick = Simulator.Options.defaults()
                .withMaxNewTokens(4)
                .withMaxAttempts(1)
                .withSeed(3);
        AttributeSpec spec = AttributeSpec.harmlessness();
        PromptSet two = prompts.limit(2);
        Path out = dir.resolve("pairs.jsonl");
        Simulator.run(tiny, two, spec, Method.RLCD, quick.withOutput(out));

        RlcdException e = assertThrows(
                RlcdException.class, () -> Simulator.run(tiny, two, spec, Method.RLAIF, quick.withOutput(out)));
        // (rows are in the order they finished: shortest prompt first)
        assertTrue(
                e.getMessage()
                        .matches(
                                ".*row id [01] is task 'harmlessness', method 'rlcd' but this run is task 'harmlessness', method 'rlaif'.*"),
                e.getMessage());
        e = assertThrows(
                RlcdException.class,
                () -> Simulator.run(
                        tiny, two, spec, Method.RLCD, quick.withSeed(4).withOutput(out)));
        assertTrue(e.getMessage().contains("was simulated from a different prompt or draw"), e.getMessage());
        e = assertThrows(
                RlcdException.class,
                () -> Simulator.run(tiny, prompts.ids(2, 4), spec, Method.RLCD, quick.withOutput(out)));
        assertTrue(e.getMessage().matches(".*row id [01] is not among this run's prompts.*"), e.getMessage());

        Path dry = dir.resolve("dry.jsonl");
        try (SimulationLog log = SimulationLog.open(dry)) {
            log.appendAll(Simulation.plan(two, spec, Method.RLCD, 3));
        }
        e = assertThrows(RlcdException.class, () -> Simulator.run(tiny, two, spec, Method.RLCD, quick.withOutput(dry)));
        assertTrue(e.getMessage().contains("dry run's planned row"), e.getMessage());
    }

    @Test
    void shardsSplitThePromptsById(@TempDir Path dir) {
        Simulator.Options quick =
                Simulator.Options.defaults().withMaxNewTokens(4).withMaxAttempts(1);
        AttributeSpec spec = AttributeSpec.harmlessness();
        PromptSet four = prompts.limit(4);
        PreferencePairs s0 = Simulator.run(
                tiny, four, spec, Method.RLCD, quick.withShard(0, 2).withOutput(dir.resolve("s0.jsonl")));
        PreferencePairs s1 = Simulator.run(
                tiny, four, spec, Method.RLCD, quick.withShard(1, 2).withOutput(dir.resolve("s1.jsonl")));
        assertEquals(List.of(0, 2), rows(s0).stream().map(PairRow::id).toList());
        assertEquals(List.of(1, 3), rows(s1).stream().map(PairRow::id).toList());
        assertEquals("harmlessness rlcd shard 1/2", s1.name());
        // a shard plans as the official per-process run does: its own generator over its own prompts
        assertEquals(
                Simulation.plan(four.shard(1, 2), spec, Method.RLCD, 0).get(0).positivePrompt(),
                rows(s1).get(0).positivePrompt());
        assertThrows(RlcdException.class, () -> quick.withShard(2, 2));
    }
}
