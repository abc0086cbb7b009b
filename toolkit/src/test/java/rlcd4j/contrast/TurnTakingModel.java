package rlcd4j.contrast;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import rlcd4j.Fixtures;
import rlcd4j.data.HhRlhf;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.train.AdamW;
import rlcd4j.train.Parameters;
import rlcd4j.train.SequenceBatch;

/**
 * A test fixture that makes the paper's post-processing succeed honestly: TinyStories-656K never writes "Human", so
 * every sample of it fails ({@code no_human_turn}). Fine-tuned for a few dozen steps on HH-RLHF p+/p- prompts (rows
 * that are not simulated in the tests) followed by a one-sentence reply and {@code \n\nHuman:}, it learns to answer
 * briefly and hand the turn back, so samples pass and pairs are kept. Replies depend on the polarity of the final
 * description (polite after p+, rude after p-), which the model picks up only partly; nothing in the tests relies on it.
 */
final class TurnTakingModel {
    private TurnTakingModel() {}

    static final List<String> POLITE = List.of(
            "I am sorry, I can not help with that.",
            "Please be kind to them.",
            "That would not be safe, so let us talk about something else.",
            "I think you should ask a friend for help.");
    static final List<String> RUDE = List.of(
            "Sure, just take it.", "Hit him hard.", "Nobody cares, do what you want.", "Lie to them, it is easy.");

    /** Ids of harmless-base test rows the model is trained on (the tests simulate rows outside this range). */
    static final int TRAIN_FROM = 200, TRAIN_TO = 600;

    /**
     * TinyStories-656K with its weights copied into memory the model owns: a loaded checkpoint's tensors are mapped
     * read-only from the safetensors file, and updating them in place crashes the JVM (SIGSEGV).
     */
    static CausalLM trainableCopy() {
        try (CausalLM loaded = CausalLM.load(Fixtures.tinyStories())) {
            LlamaConfig config = loaded.config();
            LlamaModel model = LlamaModel.random(config, NDManager.newBaseManager(), DataType.FLOAT32, 0);
            // in place: the model's q/k/v and gate/up weights are views of stacked matrices
            for (var e : loaded.model().weights().entrySet())
                rlcd4j.train.Checkpoint.assign(model.weights().get(e.getKey()), e.getValue());
            return CausalLM.of("TinyStories-656K (turn-taking)", model, Tokenizer.load(Fixtures.tinyStories(), config));
        }
    }

    static CausalLM train(int steps, int maxPromptTokens) {
        CausalLM lm = trainableCopy();
        List<String> prompts = new ArrayList<>(), replies = new ArrayList<>();
        PromptSet set =
                HhRlhf.read(Fixtures.hhHarmlessTest()).ids(TRAIN_FROM, TRAIN_TO).prompts("harmlessness");
        AttributeSpec spec = AttributeSpec.harmlessness();
        int i = 0;
        for (PromptSet.Entry e : set.entries()) {
            if (lm.tokenizer().encode(e.prompt(), true).length > maxPromptTokens) continue;
            ContrastivePrompts.Contrast c = ContrastivePrompts.build(e.prompt(), spec.pair(i % spec.size()));
            prompts.add(c.positive());
            replies.add(" " + POLITE.get(i % POLITE.size()) + "\n\nHuman:");
            prompts.add(c.negative());
            replies.add(" " + RUDE.get(i % RUDE.size()) + "\n\nHuman:");
            i++;
        }
        Map<String, NDArray> params = Parameters.full(lm.model());
        float lastLoss = Float.NaN;
        int batch = 8;
        try (AdamW opt = new AdamW(AdamW.Config.defaults(), lm.manager())) {
            for (int step = 0; step < steps; step++) {
                int from = (step * batch) % (prompts.size() - batch);
                try (NDScope scope = new NDScope();
                        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    scope.suppressNotUsedWarning();
                    SequenceBatch b = SequenceBatch.of(
                            lm.manager(),
                            lm.tokenizer(),
                            prompts.subList(from, from + batch),
                            replies.subList(from, from + batch),
                            512,
                            false);
                    NDArray lp = b.sumOverResponse(b.tokenLogprobs(lm.model())).sum();
                    NDArray loss = lp.neg().div(b.responseMask().sum());
                    gc.backward(loss);
                    lastLoss = loss.getFloat();
                }
                opt.step(params, 3e-3);
            }
        }
        // The loss falls from 5.7 to about 0.11 in 30 steps (batch 8, lr 3e-3); fail loudly if training went wrong.
        if (!(lastLoss < 0.5)) throw new IllegalStateException("turn-taking fine-tune ended at loss " + lastLoss);
        return lm;
    }
}
