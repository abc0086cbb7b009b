package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

class OutputsTest {
    @Test
    void cutAtHumanKeepsTheTextBeforeTheNextTurn() {
        assertEquals(" Sure, here it is.", Outputs.cutAtHuman(" Sure, here it is.\n\nHuman: thanks\n\nAssistant: ok"));
        assertEquals("no turn here\nHuman: x", Outputs.cutAtHuman("no turn here\nHuman: x"));
    }

    @Test
    void postprocessMatchesTheScript() {
        // Expected values from the official scripts/postprocess.py on the same inputs.
        assertEquals("Hello there.", Outputs.postprocess("  Assistant:  Hello there.  "));
        assertEquals("Hi.", Outputs.postprocess("Human: Assistant: Hi.")); // labels are tried in list order
        assertEquals("", Outputs.postprocess("Assistant: Human: Hi.")); // stripped label, then cut at "Human:"
        assertEquals("Fine", Outputs.postprocess("Fine\nUser: more"));
        assertEquals("a", Outputs.postprocess("a human: b Human: c"));
        assertEquals("I'm here.", Outputs.postprocess("I'm here.\u00a0\n"));
        assertEquals("", Outputs.postprocess("assistant:"));
        assertEquals("ok", Outputs.clean("ok\n\nHuman: next"));
    }

    @Test
    void jsonlRoundTripAndDefaults(@TempDir Path dir) throws Exception {
        Table t = Outputs.of(
                "rlcd",
                List.of("x1", "x2"),
                List.of("Human: a\n\nAssistant:", "Human: b\n\nAssistant:"),
                List.of("one \"quoted\"\nline", "two"));
        Path f = dir.resolve("out.jsonl");
        Outputs.writeJsonl(t, f);
        Table back = Outputs.readJsonl(f);
        assertEquals(
                t.stringColumn("output").asList(), back.stringColumn("output").asList());
        assertEquals(List.of("rlcd", "rlcd"), back.stringColumn("model").asList());

        Path g = dir.resolve("rlaif.jsonl");
        Files.writeString(
                g, "{\"instruction\":\"p\",\"output\":\"o\"}\n\n{\"id\":7,\"prompt\":\"q\",\"output\":\"r\"}\n");
        Table u = Outputs.readJsonl(g);
        assertEquals(List.of("0", "7"), u.stringColumn("id").asList());
        assertEquals(List.of("rlaif", "rlaif"), u.stringColumn("model").asList());
    }

    @Test
    void badLinesNameFileAndLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"prompt\":\"p\",\"output\":\"o\"}\n{\"prompt\":\"p\"}\n");
        RlcdException e = assertThrows(RlcdException.class, () -> Outputs.readJsonl(f));
        assertEquals(f + ":2: missing field 'output'", e.getMessage());
        Files.writeString(f, "{\"prompt\":\"p\",\"output\":\"o\"\n");
        assertTrue(assertThrows(RlcdException.class, () -> Outputs.readJsonl(f))
                .getMessage()
                .startsWith(f + ":1: not valid JSON"));
        Files.writeString(f, "{\"prompt\":\"p\",\"output\":[\"o\"]}\n");
        assertTrue(assertThrows(RlcdException.class, () -> Outputs.readJsonl(f))
                .getMessage()
                .contains("'output' must be a string"));
    }
}
