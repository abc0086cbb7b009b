package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDScope;
import java.util.List;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;

/** The text a preference model reads: one form, whoever builds it (training, evaluation, PPO's scoring). */
class PreferenceModelTest {
    private static final String PROMPT = "Human: Where do cats sleep?\n\nAssistant:";

    @Test
    void aDecodedLeadingSpaceDoesNotReachTheModel() {
        // A byte-level tokenizer decodes a sampled answer as " They ..." and PPO hands it over unstripped.
        String answer = "They sleep in boxes.", expected = PROMPT + " They sleep in boxes.\n\nHuman:";
        assertArrayEquals(PreferenceModel.text(PROMPT, answer), PreferenceModel.text(PROMPT, " " + answer));
        assertEquals(
                expected,
                String.join("", PreferenceModel.text(PROMPT, " " + answer + "\n")),
                "one space after 'Assistant:', as the training pairs have");
        assertEquals(expected, String.join("", PreferenceModel.text(PROMPT + " ", answer)));
    }

    @Test
    void ppoScoresAResponseWithALeadingSpaceAsTrainingSawItsStrippedForm() {
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories());
                PreferenceModel pm = PreferenceModel.create(lm, null, 128, 5)) {
            String answer = "They sleep in boxes and on warm beds.";
            // PpoTrainer's call: score(prompts, decoded responses, batch)
            List<String> prompts = List.of(PROMPT, PROMPT, PROMPT);
            double[] s = pm.score(prompts, List.of(answer, " " + answer, " " + answer + "\n"), 3);
            assertEquals(s[0], s[1], 1e-6, "leading space");
            assertEquals(s[0], s[2], 1e-6, "leading space and trailing newline");
            // What PreferenceModelTrainer.train computes for the pair: text, SequenceBatch, rewards.
            String[] t = PreferenceModel.text(PROMPT, answer);
            double trained;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                var b = SequenceBatch.of(lm.manager(), lm.tokenizer(), List.of(t[0]), List.of(t[1]), 128, false);
                trained = pm.rewards(b).getFloat(0);
            }
            assertEquals(trained, s[1], 1e-5, "the scored text is the training text");
        }
    }
}
