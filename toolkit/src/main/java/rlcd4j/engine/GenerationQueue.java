package rlcd4j.engine;

import java.util.List;

/**
 * Work for continuous batching ({@link CausalLM#generate(GenerationConfig, GenerationQueue)}): the decoder takes a
 * prompt from here whenever a row of its batch is free and hands each sample back as soon as it ends, so the batch
 * stays full while samples of different lengths come and go. The caller's tag {@code T} says which sample is which.
 *
 * <pre>{@code
 * Deque<String> todo = new ArrayDeque<>(prompts);
 * lm.generate(config, new GenerationQueue<String>() {
 *     public Entry<String> poll() { String p = todo.poll(); return p == null ? null : new Entry<>(p, seedOf(p), p); }
 *     public void finished(List<Done<String>> done) { done.forEach(d -> results.put(d.tag(), d.generation())); }
 * });
 * }</pre>
 */
public interface GenerationQueue<T> {
    /** A prompt to continue, the seed of its own generator, and the caller's tag for it. */
    record Entry<T>(String prompt, long seed, T tag) {}

    /** A sample that ended, and its tag. */
    record Done<T>(T tag, Generation generation) {}

    /**
     * The next prompt to start, or null if none is waiting now (the decoder asks again after samples end). A prompt
     * whose tokens plus the config's new tokens exceed the model's context ends the generation with an
     * {@link rlcd4j.util.RlcdException} naming it; check lengths before queueing when one bad prompt must not stop the rest.
     */
    Entry<T> poll();

    /** The samples that ended at one decoding step, in batch order. May queue more work for {@link #poll}. */
    void finished(List<Done<T>> done);

    /** False stops a running sample whose result is no longer needed: its row is freed and it is not reported. */
    default boolean wanted(T tag) {
        return true;
    }
}
