package rlcd4j.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;

/**
 * Continuous batching on the real TinyStories-656K checkpoint: rows that end are refilled from the queue at the next
 * step, the cache's columns move when they must, and every sample stays what it is alone with its seed.
 */
class ContinuousBatchingTest {
    static CausalLM lm;

    /**
     * Short prompts first, then a long one that joins rows with a short history (the columns move right for it); once
     * it ends, the short rows leave most of the cache's columns unused (they are compacted away).
     */
    static final List<String> PROMPTS = List.of(
            "Lily",
            "Tom had a",
            "One day",
            "Mom said",
            "The dog ran to the big red ball and then it saw a cat in the tall tree next to the old house with the blue door. "
                    + "The cat was scared and did not want to come down, so the dog sat under the tree and waited for a long "
                    + "time until the sun went down and the stars came out over the quiet town",
            "The cat",
            "They went to the park",
            "Once upon a time",
            "Sam",
            "The sun was hot and the kids wanted to swim",
            "Ben and his sister",
            "A bird");

    static final GenerationConfig SAMPLED =
            GenerationConfig.defaults().withMaxNewTokens(48).withStopStrings(List.of(".", "!"));

    @BeforeAll
    static void load() {
        lm = CausalLM.load(Fixtures.tinyStories());
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    static long seed(int i) {
        return 1000 + 7L * i;
    }

    static void assertAsAlone(String prompt, long seed, Generation got) {
        Generation alone =
                lm.generate(List.of(prompt), SAMPLED, new long[] {seed}).get(0);
        assertArrayEquals(alone.ids(), got.ids(), "'" + prompt + "': " + alone.text() + " vs " + got.text());
        assertArrayEquals(alone.logprobs(), got.logprobs(), 1e-4f, prompt);
        assertEquals(alone.finishReason(), got.finishReason(), prompt);
    }

    @Test
    void rowsThatEndAreRefilledAndEverySampleIsWhatItIsAlone() {
        long[] seeds = new long[PROMPTS.size()];
        for (int i = 0; i < seeds.length; i++) seeds[i] = seed(i);
        List<Generation> batched = lm.generate(PROMPTS, SAMPLED.withBatchSize(3), seeds);
        Generator.Stats stats = Generator.lastStats();
        // every path of the loop ran: prompts joined running rows, a long one moved the columns right, unused columns
        // were compacted away, and rows left the batch once the queue was empty
        assertTrue(stats.joinedRunning() >= PROMPTS.size() - 3, stats.toString());
        assertTrue(stats.movedRight() > 0, stats.toString());
        assertTrue(stats.movedLeft() > 0, stats.toString());
        assertTrue(stats.rowsLeft() > 0, stats.toString());
        // rows of different lengths: libtorch's attention reads columns that some rows mask; the native one reads each
        // row's own (and a free row's single column)
        assertTrue(stats.keyColumnsNeeded() > 0, stats.toString());
        if (lm.model().stepsAttendNatively(ai.djl.Device.cpu())) {
            // a row without a sample in a step (free, or about to be prefilled) reads its own column only
            assertTrue(
                    stats.keyColumnsRead() >= stats.keyColumnsNeeded()
                            && stats.keyColumnsRead()
                                    <= stats.keyColumnsNeeded() + stats.idleRows() + stats.joinedRunning(),
                    stats.toString());
        } else {
            assertTrue(stats.keyColumnsRead() > stats.keyColumnsNeeded(), stats.toString());
        }
        for (int i = 0; i < PROMPTS.size(); i++) assertAsAlone(PROMPTS.get(i), seeds[i], batched.get(i));
    }

    @Test
    void workQueuedWhileDecodingJoinsAndUnwantedSamplesStop() {
        Deque<Integer> todo = new ArrayDeque<>(List.of(0, 1, 2, 3, 5, 6, 7));
        Map<Integer, Generation> got = new LinkedHashMap<>();
        Set<Integer> unwanted = new HashSet<>();
        List<Integer> running = new ArrayList<>();
        lm.generate(SAMPLED.withBatchSize(4), new GenerationQueue<Integer>() {
            @Override
            public Entry<Integer> poll() {
                Integer i = todo.pollFirst();
                if (i == null) return null;
                running.add(i);
                return new Entry<>(PROMPTS.get(i), seed(i), i);
            }

            @Override
            public void finished(List<Done<Integer>> done) {
                for (Done<Integer> d : done) {
                    assertNull(got.put(d.tag(), d.generation()), "sample " + d.tag() + " reported twice");
                    running.remove(d.tag());
                }
                if (!todo.contains(4) && !got.containsKey(4) && !running.contains(4)) {
                    todo.addFirst(4); // work that arrives while the batch runs (the simulator's retries)
                    if (!running.isEmpty()) unwanted.add(running.get(0)); // and a running sample no longer needed
                }
            }

            @Override
            public boolean wanted(Integer tag) {
                return !unwanted.contains(tag);
            }
        });
        assertEquals(1, unwanted.size());
        for (int i : unwanted) assertFalse(got.containsKey(i), "sample " + i + " was stopped, not reported");
        assertTrue(got.containsKey(4), "the sample queued during decoding ran");
        assertEquals(8 - unwanted.size(), got.size());
        for (var e : got.entrySet()) assertAsAlone(PROMPTS.get(e.getKey()), seed(e.getKey()), e.getValue());
    }
}
