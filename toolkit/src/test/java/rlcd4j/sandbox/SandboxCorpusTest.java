package rlcd4j.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;

class SandboxCorpusTest {
    @TempDir
    Path tmp;

    @Test
    void writesCorpusEvalPromptsAndManifest() throws Exception {
        SandboxCorpus c = SandboxCorpus.write(tmp.resolve("a"), 42, 3000, SandboxWorld.Mix.standard(), 100);
        List<String> texts = SandboxCorpus.readTexts(c.pretrainFile());
        assertEquals(3000, texts.size());
        Gson gson = new Gson();
        List<String> lines = Files.readAllLines(c.pretrainFile());
        JsonObject first = gson.fromJson(lines.get(0), JsonObject.class);
        assertEquals(Set.of("id", "task", "text"), first.keySet());
        assertEquals("pretrain-0000000", first.get("id").getAsString());

        GroundTruth judge = GroundTruth.standard();
        SandboxWorld world = SandboxWorld.standard();
        String all = String.join("\n", texts);
        for (SandboxTask t : SandboxTask.values()) {
            List<String> prompts = SandboxCorpus.readPrompts(c.evalFile(t));
            assertEquals(100, prompts.size());
            assertEquals(100, new HashSet<>(prompts).size(), "distinct");
            JsonObject row = gson.fromJson(Files.readAllLines(c.evalFile(t)).get(0), JsonObject.class);
            assertEquals(Set.of("id", "task", "prompt"), row.keySet());
            assertEquals(t.id() + "-0000", row.get("id").getAsString());
            for (String p : prompts) {
                assertTrue(p.startsWith("Human: ") && p.endsWith("\n\nAssistant:"), p);
                assertEquals(t, judge.request(p).task());
                assertTrue(SandboxWorld.isHeldOut(t, judge.request(p).key()));
                assertFalse(
                        all.contains(p.substring(p.lastIndexOf("Human: "), p.length() - "\n\nAssistant:".length())),
                        "held-out request text found in the corpus: " + p);
            }
        }
        JsonObject m = gson.fromJson(Files.readString(tmp.resolve("a/corpus.json")), JsonObject.class);
        assertEquals(42, m.get("seed").getAsLong());
        assertEquals(3000, m.get("dialogues").getAsInt());
        int turns = m.get("judged_assistant_turns").getAsInt();
        assertEquals(0.5, m.get("described_turns").getAsDouble() / turns, 0.03);
        assertEquals(0.5, m.get("good_turns").getAsDouble() / turns, 0.03);
        assertNotNull(world);
    }

    @Test
    void sameSeedSameBytesAndEvalSetIndependentOfSize() throws Exception {
        SandboxCorpus a = SandboxCorpus.write(tmp.resolve("a"), 5, 500, SandboxWorld.Mix.standard(), 50);
        SandboxCorpus b = SandboxCorpus.write(tmp.resolve("b"), 5, 500, SandboxWorld.Mix.standard(), 50);
        SandboxCorpus c = SandboxCorpus.write(tmp.resolve("c"), 5, 800, SandboxWorld.Mix.standard(), 50);
        assertEquals(Files.readString(a.pretrainFile()), Files.readString(b.pretrainFile()));
        for (SandboxTask t : SandboxTask.values()) {
            assertEquals(Files.readString(a.evalFile(t)), Files.readString(b.evalFile(t)));
            assertEquals(Files.readString(a.evalFile(t)), Files.readString(c.evalFile(t)));
        }
        assertEquals(
                Files.readString(a.pretrainFile()),
                String.join("\n", Files.readAllLines(c.pretrainFile()).subList(0, 500)) + "\n");
    }

    @Test
    void badInputGetsOneClearError() throws Exception {
        assertThrows(RlcdException.class, () -> SandboxCorpus.write(tmp, 1, 0));
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\":\"ok\"}\n{\"txt\":\"no\"}\n");
        RlcdException e = assertThrows(RlcdException.class, () -> SandboxCorpus.readTexts(bad));
        assertEquals(bad + ":2: expected a string field 'text'", e.getMessage());
        Files.writeString(bad, "{\"text\":\"ok\"}\n\n{broken\n");
        RlcdException e2 = assertThrows(RlcdException.class, () -> SandboxCorpus.readTexts(bad));
        assertTrue(e2.getMessage().startsWith(bad + ":3: not a JSON object"), e2.getMessage());
    }
}
