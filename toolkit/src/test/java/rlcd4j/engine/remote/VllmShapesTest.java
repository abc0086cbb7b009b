package rlcd4j.engine.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import rlcd4j.util.RlcdException;

/** Contract tests: answers in vLLM's documented shapes (hand-written fixtures in resources/vllm) parse correctly. */
class VllmShapesTest {
    static final UnaryOperator<String> NONE = s -> s;

    /** A fixture's JSON body: the file without its # comment lines. */
    static String fixture(String name) {
        try (InputStream in = VllmShapesTest.class.getResourceAsStream("/vllm/" + name)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.lines().filter(l -> !l.startsWith("#")).collect(Collectors.joining("\n"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void sampledCompletionKeepsTheStopString() {
        Completion c = CompletionsJson.completion(fixture("completion.json"), NONE);
        assertEquals(" I can't help with that.\n\nHuman", c.text());
        assertEquals("stop", c.finishReason());
        assertEquals("Human", c.stopReason());
        Completion l = CompletionsJson.completion(fixture("completion-length.json"), NONE);
        assertEquals("length", l.finishReason());
        assertNull(l.stopReason());
    }

    @Test
    void echoedPromptGivesTheLabelsExactLogprob() {
        String body = fixture("completion-echo-logprobs.json");
        assertEquals(-0.34375, CompletionsJson.promptLogprob(body, 6, NONE));
        // the local tokenizer counting another number of prompt tokens means another tokenizer: an error, not a guess
        RlcdException e = assertThrows(RlcdException.class, () -> CompletionsJson.promptLogprob(body, 5, NONE));
        assertTrue(
                e.getMessage().contains("6 tokens") && e.getMessage().contains("local tokenizer into 5"),
                e.getMessage());
    }

    @Test
    void answersWithoutPromptLogprobsAskForTheFallback() {
        assertInstanceOf(
                CompletionsJson.NoPromptLogprobs.class,
                assertThrows(
                        RlcdException.class,
                        () -> CompletionsJson.promptLogprob(fixture("completion-top-logprobs.json"), 14, NONE)));
        assertInstanceOf(
                CompletionsJson.NoPromptLogprobs.class,
                assertThrows(
                        RlcdException.class,
                        () -> CompletionsJson.promptLogprob(fixture("completion.json"), 57, NONE)));
    }

    @Test
    void topLogprobsOfTheFirstGeneratedToken() {
        Map<String, Double> top = CompletionsJson.firstTopLogprobs(fixture("completion-top-logprobs.json"), NONE);
        assertEquals(5, top.size());
        assertEquals(-0.34375, top.get("A"));
        assertEquals(-1.6875, top.get("B"));
    }

    @Test
    void modelsAndBothErrorShapes() {
        assertEquals(List.of("huggyllama/llama-7b"), CompletionsJson.modelIds(fixture("models.json"), NONE));
        assertTrue(CompletionsJson.errorMessage(fixture("error.json"))
                .startsWith("This model's maximum context length is 2048"));
        assertEquals(
                "The model `llama-7b` does not exist.", CompletionsJson.errorMessage(fixture("error-legacy.json")));
        assertNull(CompletionsJson.errorMessage(fixture("completion.json")));
    }

    @Test
    void anotherShapeIsOneClearErrorThatMasksTheKey() {
        RlcdException e = assertThrows(
                RlcdException.class, () -> CompletionsJson.completion(fixture("chat-completion.json"), NONE));
        assertTrue(e.getMessage().contains("expected choices[0].text"), e.getMessage());
        RlcdException k = assertThrows(
                RlcdException.class,
                () -> CompletionsJson.completion(
                        "<html>bad gateway for key sk-123</html>", s -> s.replace("sk-123", "***")));
        assertFalse(k.getMessage().contains("sk-123"), k.getMessage());
    }
}
