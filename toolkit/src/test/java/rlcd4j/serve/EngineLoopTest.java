package rlcd4j.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Generation;
import rlcd4j.engine.GenerationConfig;

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
            assertEquals(8, stats.samples(), stats.toString());
            assertEquals(0, stats.joinedRunning(), "every sample prefilled in the first step: " + stats);
        }
    }

    /** A scoring pass queued while a loop runs is answered between its steps, not after its rows have ended. */
    @Test
    void aScoringPassRunsBetweenTheStepsOfARunningLoop() throws Exception {
        GenerationConfig settings = GenerationConfig.simulation().withMaxNewTokens(300);
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                EngineLoop loop = new EngineLoop(lm, 4, 64, 0, 0)) {
            long[] ids = lm.tokenizer().encode("Once upon a time, there was a little dog.", true);
            CompletableFuture<Generation> sample = loop.sample("Once upon a time, a little cat", settings, 7);
            Thread.sleep(20); // the loop has started
            EngineLoop.Scores scores = loop.score(ids, 2).get(60, TimeUnit.SECONDS);
            boolean sampleRunning = !sample.isDone();
            Generation g = sample.get(60, TimeUnit.SECONDS);
            assertTrue(g.ids().length >= 100, "the sample runs long enough to tell: " + g.ids().length + " tokens");
            assertTrue(sampleRunning, "the scoring pass waited for the sample's " + g.ids().length + " tokens to end");
            assertEquals(ids.length, scores.logprobs().length);
        }
    }
}
