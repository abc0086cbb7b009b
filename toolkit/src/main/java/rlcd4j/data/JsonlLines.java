package rlcd4j.data;

import rlcd4j.util.RlcdException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Reads the non-blank lines of a {@code .jsonl} or {@code .jsonl.gz} file with their 1-based line numbers. */
final class JsonlLines {
    private JsonlLines() {}

    static List<DataFiles.Line> read(Path file) {
        if (!Files.isRegularFile(file)) throw new RlcdException(file + ": no such file");
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
            List<DataFiles.Line> out = new ArrayList<>();
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (!line.isBlank()) out.add(new DataFiles.Line(n, line));
            }
            return out;
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }
}
