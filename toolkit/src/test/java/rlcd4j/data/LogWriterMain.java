package rlcd4j.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.contrast.AttributeSpec;
import rlcd4j.contrast.Method;
import rlcd4j.contrast.Simulation;

/**
 * A stand-in simulation process for the kill test: plans N prompts and appends one finished row every few
 * milliseconds to the log at args[0], skipping ids already done (the resume logic a real run uses).
 * Args: LOG N SLEEP_MS.
 */
public final class LogWriterMain {
    public static void main(String[] args) throws Exception {
        Path log = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        long sleep = Long.parseLong(args[2]);
        try (SimulationLog l = SimulationLog.open(log)) {
            for (PairRow r : plan(n)) {
                if (l.isDone(r.id())) continue;
                if (sleep > 0) Thread.sleep(sleep);
                l.append(finish(r));
            }
        }
    }

    static List<PairRow> plan(int n) {
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++)
            prompts.add("Human: question " + i + "\n\nAssistant: a\n\nHuman: more " + i + "?\n\nAssistant:");
        return Simulation.plan(PromptSet.of("harmlessness", prompts), AttributeSpec.harmlessness(), Method.RLCD, 0);
    }

    /** A deterministic "generation", so a resumed row can be compared with an uninterrupted one. */
    static PairRow finish(PairRow r) {
        return r.withRlcdResult(
                "good answer " + r.id() + "\nwith a second line, a comma and \"quotes\"", "bad answer " + r.id(), 2);
    }
}
