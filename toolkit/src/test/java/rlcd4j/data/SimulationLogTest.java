package rlcd4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

class SimulationLogTest {
    static final int N = 40;

    private static void append(Path f, String s) throws Exception {
        Files.writeString(f, s, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    private static void assertCompleteAndUnique(Path log) {
        List<PairRow> rows = SimulationLog.read(log);
        assertEquals(
                IntStream.range(0, N).boxed().toList(),
                rows.stream().map(PairRow::id).sorted().toList());
        List<PairRow> expected =
                LogWriterMain.plan(N).stream().map(LogWriterMain::finish).toList();
        for (PairRow r : rows) assertEquals(expected.get(r.id()), r, "row " + r.id());
    }

    @Test
    void tornLastLineIsCutAndTheRunResumesWithoutLossOrDuplicates(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("pairs.jsonl");
        List<PairRow> plan = LogWriterMain.plan(N);
        try (SimulationLog l = SimulationLog.open(log)) {
            for (int i = 0; i < 13; i++) l.append(LogWriterMain.finish(plan.get(i)));
        }
        String full = Json.write(PairsTable.toJson(LogWriterMain.finish(plan.get(13))));
        append(log, full.substring(0, full.length() / 2)); // killed mid-write
        assertEquals(13, SimulationLog.read(log).size(), "a reader ignores the torn line");
        try (SimulationLog l = SimulationLog.open(log)) {
            assertTrue(l.repairedBytes() > 0);
            assertEquals(13, l.done().size());
            for (PairRow r : plan) if (!l.isDone(r.id())) l.append(LogWriterMain.finish(r));
            RlcdException dup = assertThrows(RlcdException.class, () -> l.append(LogWriterMain.finish(plan.get(0))));
            assertTrue(dup.getMessage().contains("already in the log"));
        }
        assertCompleteAndUnique(log);
    }

    @Test
    void aCompleteButUnterminatedLastLineIsKept(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("pairs.jsonl");
        List<PairRow> plan = LogWriterMain.plan(N);
        try (SimulationLog l = SimulationLog.open(log)) {
            l.append(LogWriterMain.finish(plan.get(0)));
        }
        append(log, Json.write(PairsTable.toJson(LogWriterMain.finish(plan.get(1))))); // no newline yet
        try (SimulationLog l = SimulationLog.open(log)) {
            assertEquals(0, l.repairedBytes());
            assertEquals(java.util.Set.of(0, 1), l.done());
            l.append(LogWriterMain.finish(plan.get(2)));
        }
        assertEquals(3, Files.readAllLines(log).size());
        assertEquals(
                List.of(0, 1, 2),
                SimulationLog.read(log).stream().map(PairRow::id).toList());
    }

    @Test
    void corruptionInTheMiddleIsAnErrorNamingTheLine(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("pairs.jsonl");
        List<PairRow> plan = LogWriterMain.plan(N);
        try (SimulationLog l = SimulationLog.open(log)) {
            l.append(LogWriterMain.finish(plan.get(0)));
        }
        append(log, "garbage\n");
        RlcdException e = assertThrows(RlcdException.class, () -> SimulationLog.open(log));
        assertTrue(e.getMessage().startsWith(log + ":2: not a pairs-table row"), e.getMessage());
        assertEquals(2, Files.readAllLines(log).size(), "nothing is cut on an error");
    }

    @Test
    void aKilledProcessResumes(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("pairs.jsonl");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        "-Dai.djl.offline=true",
                        LogWriterMain.class.getName(),
                        log.toString(),
                        Integer.toString(N),
                        "40")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.out").toFile());
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline
                && (!Files.exists(log) || Files.readAllLines(log).size() < 8)) Thread.sleep(20);
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        int before = SimulationLog.read(log).size();
        assertTrue(
                before >= 8 && before < N,
                "killed part-way: " + before + " rows; child output: " + Files.readString(dir.resolve("child.out")));
        List<PairRow> beforeRows = SimulationLog.read(log);

        LogWriterMain.main(new String[] {log.toString(), Integer.toString(N), "0"}); // resume
        assertCompleteAndUnique(log);
        assertEquals(
                beforeRows, SimulationLog.read(log).subList(0, before), "rows finished before the kill are untouched");
    }
}
