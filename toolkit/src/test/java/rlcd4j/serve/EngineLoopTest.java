package rlcd4j.serve;

import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The engine thread's gathering of a batch before a decoding loop starts. */
class EngineLoopTest {
    /**
     * Samples that arrive one by one, each well within the quiet period of the one before but spread over longer
     * than it, all start in the loop's first step (prefilled together): none joins the loop once it runs.
     */
    @Test
    void aBurstSpreadOverLongerThanTheQuietPeriodStartsAsOneBatch() throws Exception {
        long quiet = TimeUnit.MILLISECONDS.toNanos(500);
        GenerationConfig settings = GenerationConfig.simulation().withMaxNewTokens(4);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
             EngineLoop loop = new EngineLoop(lm, 8, 64, quiet, TimeUnit.SECONDS.toNanos(30))) {
            List<CompletableFuture<Generation>> samples = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                if (i > 0) Thread.sleep(100); // 700 ms from the first to the last
                samples.add(loop.sample("Once upon a time, a " + "little ".repeat(i) + "cat", settings, i));
            }
            for (CompletableFuture<Generation> f : samples) f.get(60, TimeUnit.SECONDS);
            loop.close(); // waits for the loop to end and count itself
            OpenAiServer.DecodeStats stats = loop.stats();
            assertEquals(1, stats.loops(), stats.toString());
            assertEquals(0, stats.joinedRunning(), "every sample prefilled in the first step: " + stats);
        }
    }
}
