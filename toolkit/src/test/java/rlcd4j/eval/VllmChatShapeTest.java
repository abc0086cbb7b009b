package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Contract test: a chat completion in vLLM's documented shape (hand-written fixture) parses as the judge reads it. */
class VllmChatShapeTest {
    static String fixture(String name) {
        try (InputStream in = VllmChatShapeTest.class.getResourceAsStream("/vllm/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .filter(l -> !l.startsWith("#"))
                    .collect(Collectors.joining("\n"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void chatCompletionContent() {
        OpenAiJudge.Reply r = OpenAiJudge.reply(fixture("chat-completion.json"));
        assertEquals("Output (a) is more helpful.", r.text());
        assertNull(r.refusal());
        assertEquals("stop", r.finishReason());
        assertNull(OpenAiJudge.reply(fixture("error.json")), "an error body is not a chat completion");
    }
}
