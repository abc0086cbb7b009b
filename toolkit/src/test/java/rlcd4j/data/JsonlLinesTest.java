package rlcd4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;

class JsonlLinesTest {
    static final String TEXT = "{\"a\":1}\n\n   \n{\"a\":\"\u00e9\"}\r\n{\"a\":3}";

    @Test
    void plainAndGzippedGiveTheSameNumberedNonBlankLines(@TempDir Path dir) throws Exception {
        Path plain = Files.writeString(dir.resolve("x.jsonl"), TEXT, StandardCharsets.UTF_8);
        Path gz = dir.resolve("x.jsonl.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(TEXT.getBytes(StandardCharsets.UTF_8));
        }
        for (Path f : List.of(plain, gz)) {
            List<DataFiles.Line> lines = JsonlLines.read(f);
            assertEquals(
                    List.of(1, 4, 5), lines.stream().map(DataFiles.Line::number).toList(), f.toString());
            assertEquals("{\"a\":\"\u00e9\"}", lines.get(1).text());
        }
    }

    @Test
    void aLimitStopsAfterThatManyRecords(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("x.jsonl"), TEXT, StandardCharsets.UTF_8);
        assertEquals(
                List.of(1, 4),
                JsonlLines.read(f, 2).stream().map(DataFiles.Line::number).toList());
    }

    @Test
    void aMissingOrBrokenFileIsOneClearError(@TempDir Path dir) throws Exception {
        RlcdException e = assertThrows(RlcdException.class, () -> JsonlLines.read(dir.resolve("none.jsonl")));
        assertTrue(e.getMessage().endsWith("none.jsonl: no such file"), e.getMessage());
        Path bad = Files.writeString(dir.resolve("bad.jsonl.gz"), "not gzip");
        e = assertThrows(RlcdException.class, () -> JsonlLines.read(bad));
        assertTrue(e.getMessage().contains("bad.jsonl.gz: cannot read"), e.getMessage());
    }
}
