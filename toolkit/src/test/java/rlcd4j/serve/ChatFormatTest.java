package rlcd4j.serve;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which chat format a model folder gets, and what each renders. */
class ChatFormatTest {
    static final List<ChatFormat.Message> DIALOGUE = List.of(
            new ChatFormat.Message("system", "Be brief."),
            new ChatFormat.Message("user", "Hi"),
            new ChatFormat.Message("assistant", "Hello."),
            new ChatFormat.Message("user", "Why?"));

    @Test
    void aChatMlTemplateIsRenderedAsChatMl(@TempDir Path dir) throws Exception {
        // the shape of SmolLM2-Instruct's template (abridged)
        Files.writeString(
                dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"{% for message in messages %}"
                        + "{{'<|im_start|>' + message['role'] + '\\\\n' + message['content'] + '<|im_end|>' + '\\\\n'}}"
                        + "{% endfor %}\"}");
        assertEquals(ChatFormat.CHATML, ChatFormat.of(dir));
        assertEquals(
                "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n",
                ChatFormat.CHATML.render(DIALOGUE));
        assertEquals(List.of(), ChatFormat.CHATML.stops());
    }

    @Test
    void anyOtherModelGetsThePlainFormat(@TempDir Path dir) throws Exception {
        assertEquals(ChatFormat.PLAIN, ChatFormat.of(dir)); // no tokenizer_config.json
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ bos_token }}[INST] ...\"}");
        assertEquals(ChatFormat.PLAIN, ChatFormat.of(dir));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": true}");
        assertEquals(ChatFormat.PLAIN, ChatFormat.of(dir));
        assertEquals(ChatFormat.PLAIN, ChatFormat.of(null));
        assertEquals(
                "Be brief.\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Why?\n\nAssistant:",
                ChatFormat.PLAIN.render(DIALOGUE));
        assertEquals(List.of("\n\nHuman:"), ChatFormat.PLAIN.stops());
    }
}
