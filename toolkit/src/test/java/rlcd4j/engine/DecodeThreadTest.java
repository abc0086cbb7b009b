package rlcd4j.engine;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.engine.cpu.DecodeAttention;

/**
 * Decoding on a thread other than the one DJL started in (a server's engine thread, a notebook's cell thread), where
 * libtorch's per-thread grad mode is on by default: it must decode as the main thread does, without autograd, so with
 * the native attention that reads each row's own key columns only. Before the fix it recorded autograd graphs and fell
 * back to libtorch's masked attention, which reads every row from the batch's first column (docs/perf/simulation.md).
 */
class DecodeThreadTest {
    static final List<String> PROMPTS = List.of(
            "Once upon a time, there was a little girl named Lily.",
            "Tom ran",
            "The sun was shining and the birds sang in the tall green trees.");

    @Test
    void anotherThreadDecodesWithoutAutogradAndAsTheMainThreadDoes() throws Exception {
        assumeNativeAttention();
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            GenerationConfig greedy = GenerationConfig.greedy(8).withBatchSize(3);
            List<Generation> main = lm.generate(PROMPTS, greedy);
            AtomicReference<List<Generation>> other = new AtomicReference<>();
            AtomicReference<Generator.Stats> stats = new AtomicReference<>();
            AtomicReference<Boolean> gradBefore = new AtomicReference<>(), gradAfter = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    gradBefore.set(JniUtils.isGradMode());
                    other.set(lm.generate(PROMPTS, greedy));
                    stats.set(Generator.lastStats());
                    gradAfter.set(JniUtils.isGradMode());
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.start();
            t.join();
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertTrue(gradBefore.get(), "precondition: a new thread starts with libtorch's grad mode on");
            assertTrue(gradAfter.get(), "the thread's own grad mode is given back");
            Generator.Stats s = stats.get();
            assertEquals(
                    s.keyColumnsNeeded(),
                    s.keyColumnsRead(),
                    "the native attention read each row's own columns only: " + s);
            for (int i = 0; i < PROMPTS.size(); i++) {
                assertArrayEquals(main.get(i).ids(), other.get().get(i).ids(), "prompt " + i);
                assertArrayEquals(main.get(i).logprobs(), other.get().get(i).logprobs(), 0f, "prompt " + i);
            }
        }
    }

    static void assumeNativeAttention() {
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            org.junit.jupiter.api.Assumptions.assumeTrue(
                    lm.model().stepsAttendNatively(ai.djl.Device.cpu()),
                    "the native decode attention is not built here: " + DecodeAttention.status());
        }
    }
}
