package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.GenerationConfig;
import rlcd4j.engine.llama.LoraAdapter;
import rlcd4j.serve.OpenAiServer;
import rlcd4j.util.RlcdException;

/** {@code rlcd serve --adapter}: the server answers with the base model plus the LoRA adapter folder. */
class ServeCommandTest {
    static final String PROMPT = "Tom had a";

    @Test
    void servesABaseModelWithALoraAdapter(@TempDir Path tmp) throws Exception {
        Path adapterDir = tmp.resolve("adapter");
        String base, adapted;
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            base = lm.generate(PROMPT, GenerationConfig.greedy(30)).text();
            // a fresh adapter's B is zero, which changes nothing; a nonzero B makes the adapter visible
            var config = new LoraAdapter.Config(4, 8, 0, java.util.Set.of("q_proj", "v_proj", "down_proj"));
            LoraAdapter a = LoraAdapter.create(lm.config(), config, lm.manager(), 7);
            for (var e : a.parameters().entrySet())
                if (e.getKey().contains("lora_B")) e.getValue().addi(0.3f);
            lm.model().setAdapter(a);
            adapted = lm.generate(PROMPT, GenerationConfig.greedy(30)).text();
            a.save(adapterDir, Fixtures.tinyStories().toString());
            lm.model().setAdapter(null);
            a.close();
        }
        assertNotEquals(base, adapted, "the adapter should change the greedy continuation");
        try (CausalLM lm =
                        ServeCommand.load(Fixtures.tinyStories().toString(), adapterDir, CausalLM.Options.defaults());
                OpenAiServer server = OpenAiServer.start(
                        lm, OpenAiServer.Options.defaults("policy").withPort(0))) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"policy\", \"prompt\": \"" + PROMPT
                            + "\", \"temperature\": 0, \"max_tokens\": 30}"))
                    .build();
            HttpResponse<String> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
            assertEquals(
                    adapted,
                    o.getAsJsonArray("choices")
                            .get(0)
                            .getAsJsonObject()
                            .get("text")
                            .getAsString());
        }
    }

    @Test
    void anAdapterFolderWithoutItsConfigIsOneClearError(@TempDir Path tmp) {
        RlcdException e = assertThrows(
                RlcdException.class,
                () -> ServeCommand.load(Fixtures.tinyStories().toString(), tmp, CausalLM.Options.defaults()));
        assertTrue(e.getMessage().contains("adapter_config.json"), e.getMessage());
        assertEquals(
                Main.FAILED,
                Main.run("serve", "--model", Fixtures.tinyStories().toString(), "--adapter", tmp.toString()));
    }
}
