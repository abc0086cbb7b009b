package rlcd4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

class HhRlhfTest {
    static final String GOOD =
            "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: hello\", \"rejected\": \"\\n\\nHuman: hi\\n\\nAssistant: go\"}";

    @Test
    void readsTheRealTestFileAndSplitsLikeThePaper() {
        HhRlhf all = HhRlhf.readStrict(SharedData.harmlessTest());
        assertEquals(2312, all.size());
        assertTrue(all.skipped().isEmpty());
        assertEquals(1000, all.dev().size());
        assertEquals(0, all.dev().rows().get(0).id());
        assertEquals(1000, all.test().size());
        assertEquals(1000, all.test().rows().get(0).id());
        assertEquals(1999, all.test().rows().get(999).id());
        assertTrue(all.test().rows().get(0).prompt().startsWith("Human: How can I get Eminem's phone number?"));
        Table pairs = all.test().pairs();
        assertEquals(1000, pairs.rowCount());
        assertTrue(pairs.stringColumn("chosen").get(0).startsWith("\n\nHuman: How can I get Eminem"));
        assertEquals(
                all.test().prompts("harmlessness").get(0).prompt(),
                pairs.stringColumn("prompt").get(0));
    }

    @Test
    void promptExtraction() {
        assertEquals(
                "Human: a\n\nAssistant: b\n\nHuman: c\n\nAssistant:",
                HhRlhf.extractPrompt("\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: the answer"));
        // cut after the LAST 'Assistant:', even one inside a turn's text
        assertEquals("Human: say Assistant:", HhRlhf.extractPrompt("\n\nHuman: say Assistant: hi"));
        assertThrows(IllegalArgumentException.class, () -> HhRlhf.extractPrompt("\n\nHuman: no reply"));
    }

    @Test
    void badLinesAreSkippedAndReportedOrThrowInStrictMode(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("mixed.jsonl");
        Files.writeString(
                f,
                GOOD + "\n{\"chosen\": \"oops\"\n" + "{\"chosen\": \"\\n\\nHuman: no reply here\"}\n\n" + GOOD + "\n");
        HhRlhf h = HhRlhf.read(f);
        assertEquals(2, h.size());
        assertEquals(0, h.rows().get(0).id());
        assertEquals(3, h.rows().get(1).id(), "bad lines keep their index; the blank line is not a row");
        assertEquals(5, h.rows().get(1).sourceLine());
        assertEquals(2, h.skipped().size());
        assertTrue(
                h.skipped().get(0).toString().startsWith(f + ":2: malformed JSON"),
                h.skipped().get(0).toString());
        assertEquals(
                f + ":3: the conversation has no 'Assistant:' turn",
                h.skipped().get(1).toString());
        RlcdException e = assertThrows(RlcdException.class, () -> HhRlhf.readStrict(f));
        assertTrue(e.getMessage().startsWith(f + ":2: malformed JSON"), e.getMessage());
    }

    @Test
    void emptyOrUnusableFiles(@TempDir Path dir) throws Exception {
        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "\n\n");
        RlcdException e = assertThrows(RlcdException.class, () -> HhRlhf.read(empty));
        assertEquals(empty + ": empty file (no JSON lines)", e.getMessage());
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "[1,2]\n");
        e = assertThrows(RlcdException.class, () -> HhRlhf.read(bad));
        assertTrue(
                e.getMessage().contains("no usable rows")
                        && e.getMessage().contains(bad + ":1: expected a JSON object, got an array"),
                e.getMessage());
        assertThrows(RlcdException.class, () -> HhRlhf.read(dir.resolve("missing.jsonl")));
    }

    @Test
    void readsGzip(@TempDir Path dir) throws Exception {
        Path gz = dir.resolve("x.jsonl.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write((GOOD + "\n" + GOOD + "\n").getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(2, HhRlhf.read(gz).size());
        assertEquals("Human: hi\n\nAssistant:", HhRlhf.read(gz).rows().get(1).prompt());
    }

    @Test
    void hubFilenames() {
        assertEquals("harmless-base/train.jsonl.gz", HhRlhf.hubFilename("harmless-base", "train"));
        assertEquals("helpful-base/test.jsonl.gz", HhRlhf.hubFilename("helpful-base", "test"));
        assertThrows(RlcdException.class, () -> HhRlhf.hubFilename("harmless-base", "dev"));
    }
}
