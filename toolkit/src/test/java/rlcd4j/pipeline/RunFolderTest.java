package rlcd4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class RunFolderTest {
    @Test
    void aSavedTableStageIsReadBackWithItsColumnTypesAndNotRecomputed(@TempDir Path dir) {
        AtomicInteger computed = new AtomicInteger();
        RunFolder run = RunFolder.at(dir);
        // Digits in a string column and whole-number doubles are what plain CSV reading gets wrong.
        java.util.function.Supplier<Table> compute = () -> {
            computed.incrementAndGet();
            return Table.create("t", StringColumn.create("id", "0", "1"), DoubleColumn.create("p_chosen", 1.0, 1.0));
        };
        Table first = run.table("stage", compute);
        Table again = RunFolder.at(dir).table("stage", compute);
        assertEquals(1, computed.get());
        assertEquals(first.types(), again.types());
        assertEquals(ColumnType.STRING, again.column("id").type());
        assertEquals(ColumnType.DOUBLE, again.column("p_chosen").type());
        assertEquals("1", again.stringColumn("id").get(1));
        assertEquals(1.0, again.doubleColumn("p_chosen").get(0));
    }

    /** A generation setting, as GenerationConfig is: a record. */
    record Sampling(int maxNewTokens, double temperature, String label) {}

    /**
     * A notebook-shaped pipeline: pairs (from sampling settings) -> a preference model folder (from the pairs) -> its
     * evaluation (from the model folder), and an independent stage. Returns which stages computed.
     */
    static List<String> pipeline(Path dir, Sampling sampling, double lr) {
        List<String> computed = new ArrayList<>();
        RunFolder run = RunFolder.at(dir);
        Table pairs = run.table("pairs", Map.of("sampling", sampling, "prompts", List.of("a", "b")), () -> {
            computed.add("pairs");
            // The label does not change the pairs: only maxNewTokens does.
            return Table.create("pairs", IntColumn.create("tokens", sampling.maxNewTokens(), sampling.maxNewTokens()));
        });
        Path pm = run.folder("pm", Map.of("pairs", pairs, "lr", lr), d -> {
            computed.add("pm");
            try {
                if (Files.exists(d.resolve("checkpoint"))) computed.add("pm resumed a checkpoint");
                Files.writeString(d.resolve("checkpoint"), "step 1");
                Files.writeString(
                        d.resolve("model.txt"), pairs.intColumn("tokens").get(0) + " " + lr);
            } catch (java.io.IOException e) {
                throw new RuntimeException(e);
            }
        });
        run.table("pm-accuracy", Map.of("pm", pm), () -> {
            computed.add("pm-accuracy");
            return Table.create("acc", DoubleColumn.create("accuracy", 0.5));
        });
        run.table("baseline", Map.of("seed", 0L), () -> {
            computed.add("baseline");
            return Table.create("b", DoubleColumn.create("x", 1.0));
        });
        return computed;
    }

    static String stderrOf(Runnable r) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream err = System.err;
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(err);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aChangedSettingRecomputesItsStageAndTheStagesThatUseItAndKeepsTheOthers(@TempDir Path dir) {
        Sampling s96 = new Sampling(96, 1.0, "x");
        assertEquals(List.of("pairs", "pm", "pm-accuracy", "baseline"), pipeline(dir, s96, 1e-5));
        assertEquals(List.of(), pipeline(dir, s96, 1e-5), "same settings: everything read back");

        List<String> computed = new ArrayList<>();
        String err = stderrOf(() -> computed.addAll(pipeline(dir, new Sampling(128, 1.0, "x"), 1e-5)));
        assertEquals(List.of("pairs", "pm", "pm-accuracy"), computed, "the stage and its dependants, not 'baseline'");
        assertTrue(err.contains("recomputing stage 'pairs'") && err.contains("'sampling.maxNewTokens' 96 -> 128"), err);
        assertFalse(computed.contains("pm resumed a checkpoint"), "the old settings' checkpoint was cleared");

        // A later stage's own setting: only it and what uses it.
        assertEquals(List.of("pm", "pm-accuracy"), pipeline(dir, new Sampling(128, 1.0, "x"), 2e-5));
        // Settings that leave the pairs as they were: the pairs are recomputed, the model is kept.
        assertEquals(List.of("pairs"), pipeline(dir, new Sampling(128, 1.0, "renamed"), 2e-5));
        assertEquals(List.of(), pipeline(dir, new Sampling(128, 1.0, "renamed"), 2e-5));
    }

    /** A one-row table that counts its computations. */
    static Table counted(AtomicInteger computed) {
        return Table.create("t", IntColumn.create("a", new int[] {computed.incrementAndGet()}));
    }

    @Test
    void aTableThatRereadsDifferentlyStillKeysItsDependantsAlike(@TempDir Path dir) {
        // A column of missing values rereads as no rows at all: the key must follow the saved file, not the table.
        AtomicInteger computed = new AtomicInteger();
        for (int i = 0; i < 2; i++) {
            RunFolder run = RunFolder.at(dir);
            Table empty = run.table("empty", Map.of("n", 3), () -> Table.create("e", IntColumn.create("x", 3)));
            run.table("next", Map.of("input", empty), () -> counted(computed));
        }
        assertEquals(1, computed.get());
    }

    @Test
    void aStageSavedWithoutSettingsIsRecomputedOnceSettingsAreGiven(@TempDir Path dir) {
        RunFolder run = RunFolder.at(dir);
        AtomicInteger computed = new AtomicInteger();
        run.table("t", () -> counted(computed));
        String err = stderrOf(() -> run.table("t", Map.of("k", 1), () -> counted(computed)));
        assertEquals(2, computed.get());
        assertTrue(err.contains("saved without its settings"), err);
    }

    @Test
    void aSettingThatCannotBeFingerprintedIsOneClearError(@TempDir Path dir) {
        RunFolder run = RunFolder.at(dir);
        RlcdException e = assertThrows(
                RlcdException.class, () -> run.table("t", Map.of("lock", new Object()), () -> Table.create("t")));
        assertTrue(e.getMessage().contains("setting 'lock': cannot fingerprint a java.lang.Object"), e.getMessage());
    }

    @Test
    void aFileSettingIsKeyedByItsContent(@TempDir Path dir) throws Exception {
        Path model = Files.writeString(dir.resolve("weights.bin"), "v1");
        AtomicInteger computed = new AtomicInteger();
        RunFolder run = RunFolder.at(dir.resolve("run"));
        Runnable stage = () -> run.table("out", Map.of("model", model), () -> counted(computed));
        stage.run();
        stage.run();
        Files.writeString(model, "v2");
        stage.run();
        assertEquals(2, computed.get());
    }

    @Test
    void aTrainingStageGivesItsLogAsATableFreshOrReadBack(@TempDir Path dir) {
        AtomicInteger trained = new AtomicInteger();
        java.util.function.Function<Path, Table> train = d -> {
            trained.incrementAndGet();
            return Table.create(
                    "ppo log",
                    IntColumn.create("step", 1, 2),
                    DoubleColumn.create("reward", 1.0, 2.0),
                    StringColumn.create("note", "1", "2"));
        };
        Table fresh = RunFolder.at(dir).trainingLog("ppo", Map.of("kl", 0.05), train);
        Table again = RunFolder.at(dir).trainingLog("ppo", Map.of("kl", 0.05), train);
        assertEquals(1, trained.get());
        assertEquals(fresh.types(), again.types());
        assertEquals(2.0, again.doubleColumn("reward").get(1));
        assertEquals("2", again.stringColumn("note").get(1));
        assertTrue(Files.isRegularFile(dir.resolve("ppo/log.csv")));
        RunFolder.at(dir).trainingLog("ppo", Map.of("kl", 0.1), train);
        assertEquals(2, trained.get(), "a changed setting trains again");
    }

    /**
     * A killed stage that resumes from its partial file (a simulation's JSONL) continues it under the same settings,
     * and starts afresh under changed ones: resuming pairs sampled with 96 tokens into a 128-token run would be stale.
     */
    @Test
    void aResumedStageKeepsItsPartialResultsOnlyUnderTheSameSettings(@TempDir Path dir) throws Exception {
        Path partial = dir.resolve("pairs.jsonl");
        RunFolder run = RunFolder.at(dir);
        java.util.function.Function<Integer, java.util.function.Supplier<Table>> killedAfterOneRow = tokens -> () -> {
            try {
                Files.writeString(
                        partial,
                        "row sampled with " + tokens + " tokens\n",
                        java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            throw new IllegalStateException("killed");
        };
        assertThrows(
                IllegalStateException.class,
                () -> run.table("pairs", Map.of("tokens", 96), killedAfterOneRow.apply(96)));
        assertThrows(
                IllegalStateException.class,
                () -> run.table("pairs", Map.of("tokens", 96), killedAfterOneRow.apply(96)));
        assertEquals(2, Files.readAllLines(partial).size(), "the same settings resume the partial file");
        assertEquals(run.resumeFile("pairs"), partial);
        List<String> seen = new ArrayList<>();
        run.table("pairs", Map.of("tokens", 128), () -> {
            seen.add(Files.exists(partial) ? "stale partial file" : "fresh");
            return Table.create("pairs", IntColumn.create("x", 1));
        });
        assertEquals(List.of("fresh"), seen);
    }

    @Test
    void theNameOnlyFormRefusesAStageSavedWithSettings(@TempDir Path dir) {
        RunFolder run = RunFolder.at(dir);
        AtomicInteger computed = new AtomicInteger();
        run.table("t", Map.of("k", 1), () -> counted(computed));
        RlcdException e = assertThrows(RlcdException.class, () -> run.table("t", () -> counted(computed)));
        assertTrue(e.getMessage().contains("stage 't' was saved with its settings"), e.getMessage());
        assertThrows(RlcdException.class, () -> run.folder("t", d -> {}));
        assertThrows(RlcdException.class, () -> run.table("u", null, () -> counted(computed)));
        assertEquals(1, computed.get());
    }

    @Test
    void requireSettingsNamesTheChangedField(@TempDir Path dir) {
        RunFolder.at(dir).requireSettings("Options[task=HARMLESS, ppoKl=0.05, gen=G[a=1, b=2]]\n");
        RlcdException e = assertThrows(
                RlcdException.class,
                () -> RunFolder.at(dir).requireSettings("Options[task=HARMLESS, ppoKl=0.1, gen=G[a=1, b=2]]\n"));
        assertTrue(e.getMessage().contains("changed: ppoKl 0.05 -> 0.1"), e.getMessage());
    }
}
