package rlcd4j.engine.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulator;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairsTable;
import rlcd4j.data.SimulationLog;
import rlcd4j.engine.CausalLM;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;

/**
 * The real {@code rlcd serve} (a separate JVM, TinyStories-656K on loopback) is killed with SIGKILL twice while an
 * RLAIF simulation in another JVM ({@link ServeKillChild}) runs through it:
 * <ol>
 *   <li>the server dies, and the simulating JVM is killed too while its client retries; the server is restarted on
 *       the same port and the simulation is started again: it resumes from its output file;</li>
 *   <li>the server dies again mid-run and is restarted while the client retries: the same run goes on.</li>
 * </ol>
 * Every prompt then has exactly one row, and the rows equal those of an uninterrupted in-process run with the same
 * seeds (outputs, statuses and attempts exactly, {@code p_b} to 1e-6 as in {@link EngineEqualityTest}).
 */
class ServeKillResumeIT {
    private static final Pattern LISTENING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)/v1");

    @Test
    void killedServerAndKilledSimulationLoseAndDuplicateNoPair(@TempDir Path dir) throws Exception {
        List<PairRow> expected;
        ProgressSink old = Progress.setSink(ProgressSink.SILENT);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            expected = Simulator.run(
                            lm,
                            ServeKillChild.prompts(),
                            AttributeSpec.harmlessness(),
                            Method.RLAIF,
                            ServeKillChild.OPTIONS)
                    .rows();
        } finally {
            Progress.setSink(old);
        }
        assertEquals(ServeKillChild.PROMPTS, expected.size());
        assertTrue(expected.stream().filter(PairRow::ok).count() >= ServeKillChild.PROMPTS / 2, "pairs scored");

        Path out = dir.resolve("pairs-rlaif.jsonl");
        List<Process> started = new ArrayList<>();
        try {
            // 1. server and simulation both killed, then both started again: the simulation resumes from its file
            Process server = serveOn(0, dir.resolve("server-1.txt"), started);
            int port = port(dir.resolve("server-1.txt"), server);
            String url = "http://127.0.0.1:" + port + "/v1";
            Process sim = simulate(url, out, dir.resolve("simulate-1.txt"), started);
            awaitOrFail(() -> rows(out) >= 6 || !sim.isAlive(), 120, "6 rows", dir.resolve("simulate-1.txt"));
            server.destroyForcibly().waitFor();
            int beforeKill = rows(out);
            assertTrue(
                    sim.isAlive() && beforeKill < ServeKillChild.PROMPTS,
                    "the server was killed mid-run, after " + beforeKill + " rows");
            awaitOrFail(
                    () -> read(dir.resolve("simulate-1.txt")).contains("retrying"),
                    60,
                    "a retry",
                    dir.resolve("simulate-1.txt"));
            sim.destroyForcibly().waitFor();
            int afterFirst = rows(out);

            // 2. the resumed simulation sees the server die again, waits for it and goes on
            Process again = serveOn(port, dir.resolve("server-2.txt"), started);
            port(dir.resolve("server-2.txt"), again);
            Process resumed = simulate(url, out, dir.resolve("simulate-2.txt"), started);
            awaitOrFail(
                    () -> rows(out) >= afterFirst + 6 || !resumed.isAlive(),
                    120,
                    "6 more rows",
                    dir.resolve("simulate-2.txt"));
            again.destroyForcibly().waitFor();
            int atSecondKill = rows(out);
            assertTrue(
                    resumed.isAlive() && atSecondKill < ServeKillChild.PROMPTS,
                    "the server was killed mid-run again, after " + atSecondKill + " rows");
            Process third = serveOn(port, dir.resolve("server-3.txt"), started);
            port(dir.resolve("server-3.txt"), third);
            assertTrue(resumed.waitFor(300, TimeUnit.SECONDS), "the resumed simulation ended");
            String log = read(dir.resolve("simulate-2.txt"));
            assertEquals(0, resumed.exitValue(), log);
            assertTrue(log.contains("retrying") && log.contains("done: " + ServeKillChild.PROMPTS + " rows"), log);
            System.out.printf(
                    "rows written: %d before the first kill, %d when the simulation was killed, %d at the "
                            + "second server kill, %d at the end%n",
                    beforeKill, afterFirst, atSecondKill, rows(out));
        } finally {
            for (Process p : started) p.destroyForcibly().waitFor();
        }

        Map<Integer, PairRow> got = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            PairRow r = PairsTable.fromJson(rlcd4j.util.Json.parseObject(line));
            assertFalse(got.containsKey(r.id()), "id " + r.id() + " written twice");
            got.put(r.id(), r);
        }
        assertEquals(expected.size(), got.size(), "one row per prompt");
        for (PairRow a : expected) {
            PairRow b = got.get(a.id());
            String what = "row " + a.id();
            assertTrue(b != null, what + " is missing");
            assertEquals(withoutScores(a), withoutScores(b), what);
            assertEquals(a.pB(), b.pB(), 1e-6, what);
            assertEquals(a.pChosen(), b.pChosen(), 1e-6, what);
            if (a.ok()) assertEquals(a.aLogit() - a.bLogit(), b.aLogit() - b.bLogit(), 1e-5, what);
        }
    }

    /** The row without its numbers from the server's log-probabilities, which agree to rounding only. */
    private static PairRow withoutScores(PairRow r) {
        return new PairRow(
                r.id(),
                r.task(),
                r.method(),
                r.prompt(),
                r.responsePrefix(),
                r.positivePrompt(),
                r.negativePrompt(),
                r.pairIndex(),
                r.instructionIndex(),
                r.aSource(),
                r.chosen(),
                r.rejected(),
                r.chosenSlot(),
                0,
                0,
                0,
                0,
                r.status(),
                r.attempts(),
                r.error());
    }

    private static int rows(Path out) {
        return Files.exists(out) ? SimulationLog.read(out).size() : 0;
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static void awaitOrFail(BooleanSupplier done, int seconds, String what, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("no " + what + " within " + seconds + " s; " + log + ":\n" + read(log));
            }
            Thread.sleep(20);
        }
    }

    /** {@code rlcd serve} in its own JVM, with this JVM's libtorch settings (so its sums round as this JVM's). */
    private static Process serveOn(int port, Path log, List<Process> started) throws Exception {
        List<String> cmd = java();
        cmd.addAll(List.of(
                "rlcd4j.cli.Main",
                "serve",
                "--model",
                Fixtures.tinyStories().toString(),
                "--port",
                String.valueOf(port),
                "--served-model-name",
                "tiny"));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        started.add(p);
        return p;
    }

    private static Process simulate(String url, Path out, Path log, List<Process> started) throws Exception {
        List<String> cmd = java();
        cmd.addAll(List.of(ServeKillChild.class.getName(), url, out.toString()));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        started.add(p);
        return p;
    }

    private static List<String> java() {
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g"));
        for (String prop : List.of(
                "ai.djl.offline",
                "ai.djl.pytorch.num_threads",
                "ai.djl.pytorch.num_interop_threads",
                "rlcd4j.shared",
                "rlcd4j.mklIntelPath")) {
            if (System.getProperty(prop) != null) cmd.add("-D" + prop + "=" + System.getProperty(prop));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
        return cmd;
    }

    /** The port from the server's first line, once it listens. */
    private static int port(Path log, Process server) throws Exception {
        awaitOrFail(() -> LISTENING.matcher(read(log)).find() || !server.isAlive(), 180, "server", log);
        Matcher m = LISTENING.matcher(read(log));
        if (!m.find()) fail("the server did not start:\n" + read(log));
        return Integer.parseInt(m.group(1));
    }
}
