package rlcd4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

class PromptSetTest {
    @Test
    void loadsHhRowsPremisesAndPlainPrompts(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("p.jsonl");
        Files.writeString(
                f,
                String.join(
                                "\n",
                                "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: yo\", \"rejected\": \"x\"}",
                                "{\"premise\": \"A cat learns to fly.\"}",
                                "{\"id\": 42, \"prompt\": \"Human: q\\n\\nAssistant:\"}",
                                "not json",
                                "{\"id\": 42, \"prompt\": \"Human: dup\\n\\nAssistant:\"}",
                                "{\"other\": 1}")
                        + "\n");
        PromptSet s = PromptSet.load(f, "harmlessness");
        assertEquals(3, s.size());
        assertEquals("Human: hi\n\nAssistant:", s.get(0).prompt());
        assertEquals(
                "Human: Write an outline for a story with the following premise: A cat learns to fly.\n\nAssistant:",
                s.get(1).prompt());
        assertEquals(" Here is a possible outline:\n\n1.", s.get(1).responsePrefix());
        assertEquals(42, s.get(2).id());
        assertEquals(
                List.of(
                        f + ":4: malformed JSON",
                        f + ":5: duplicate id 42",
                        f + ":6: expected a 'chosen' (HH-RLHF), 'premise' or 'prompt' field"),
                s.skipped().stream()
                        .map(b -> b.toString().startsWith(f + ":4: malformed JSON")
                                ? f + ":4: malformed JSON"
                                : b.toString())
                        .toList());
        RlcdException e = assertThrows(RlcdException.class, () -> PromptSet.load(f, "harmlessness", true));
        assertTrue(e.getMessage().startsWith(f + ":4: "), e.getMessage());

        Table t = s.table();
        assertEquals(List.of("id", "task", "prompt", "response_prefix", "source_line"), t.columnNames());
        assertEquals(3, t.intColumn("source_line").getInt(2));
    }

    @Test
    void limitAndShard() {
        PromptSet s = PromptSet.of("helpfulness", List.of("a", "b", "c", "d", "e"));
        assertEquals(
                List.of(0, 1),
                s.limit(2).entries().stream().map(PromptSet.Entry::id).toList());
        assertEquals(
                List.of(1, 4),
                s.shard(1, 3).entries().stream().map(PromptSet.Entry::id).toList());
        assertArrayEquals(new int[] {2, 8}, PromptSet.parseShard("2/8"));
        assertThrows(RlcdException.class, () -> PromptSet.parseShard("2-8"));
        assertThrows(RlcdException.class, () -> s.shard(3, 3));
    }
}
