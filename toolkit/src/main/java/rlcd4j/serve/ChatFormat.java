package rlcd4j.serve;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How chat messages become one prompt. The engine has no Jinja interpreter, so a model's {@code chat_template} is
 * recognised rather than run: a template in the ChatML shape (it writes {@code <|im_start|>}, as SmolLM2 and Qwen's
 * do) is rendered as ChatML; any other model gets the plain Human/Assistant format of the RLCD paper's prompts.
 */
enum ChatFormat {
    /**
     * {@code <|im_start|>ROLE\nCONTENT<|im_end|>\n} per message, then {@code <|im_start|>assistant\n}. A template's own
     * defaults (such as a system message it adds when none is given) are not applied.
     */
    CHATML,
    /**
     * A system message as is, then {@code \n\nHuman: CONTENT} per user message and {@code \n\nAssistant: CONTENT} per
     * assistant message, ending in {@code \n\nAssistant:}; decoding stops at {@code \n\nHuman:}.
     */
    PLAIN;

    record Message(String role, String content) {}

    /** The format of the model in {@code folder} (null: a model built in code), from its tokenizer_config.json. */
    static ChatFormat of(Path folder) {
        if (folder == null) return PLAIN;
        Path file = folder.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) return PLAIN;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file));
            if (!e.isJsonObject()) return PLAIN;
            JsonElement t = ((JsonObject) e).get("chat_template");
            String template = t == null || t.isJsonNull() ? "" : t.toString(); // a string, or a list of named templates
            return template.contains("<|im_start|>") ? CHATML : PLAIN;
        } catch (IOException | RuntimeException ex) {
            return PLAIN; // the tokenizer loaded from this folder already; a template we cannot read means no template
        }
    }

    String render(List<Message> messages) {
        StringBuilder sb = new StringBuilder();
        for (Message m : messages) {
            if (this == CHATML) {
                sb.append("<|im_start|>")
                        .append(m.role())
                        .append('\n')
                        .append(m.content())
                        .append("<|im_end|>\n");
            } else if (m.role().equals("system")) {
                sb.append(m.content());
            } else {
                sb.append(m.role().equals("user") ? "\n\nHuman: " : "\n\nAssistant: ")
                        .append(m.content());
            }
        }
        sb.append(this == CHATML ? "<|im_start|>assistant\n" : "\n\nAssistant:");
        return sb.toString();
    }

    /**
     * Stop strings the format adds to a request's own. ChatML's turns end in {@code <|im_end|>}, a special token that
     * stop strings (matched on text without special tokens) cannot see; ChatML models use it as their EOS.
     */
    List<String> stops() {
        return this == CHATML ? List.of() : List.of("\n\nHuman:");
    }
}
