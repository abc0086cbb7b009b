package rlcd4j.data;

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
import rlcd4j.util.RlcdException;

/**
 * The one reader of JSON Lines files: the non-blank lines of a {@code .jsonl} or {@code .jsonl.gz} file (gzipped when
 * the name ends in {@code .gz}) with their 1-based line numbers, for errors that name the line.
 */
public final class JsonlLines {
    private JsonlLines() {}

    public static List<DataFiles.Line> read(Path file) {
        return read(file, Integer.MAX_VALUE);
    }

    /** The first {@code max} non-blank lines; the rest of the file is not read. */
    public static List<DataFiles.Line> read(Path file, int max) {
        if (!Files.isRegularFile(file)) throw new RlcdException(file + ": no such file");
        try (InputStream raw = Files.newInputStream(file);
                InputStream in =
                        file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
            List<DataFiles.Line> out = new ArrayList<>();
            String line;
            int n = 0;
            while (out.size() < max && (line = r.readLine()) != null) {
                n++;
                if (!line.isBlank()) out.add(new DataFiles.Line(n, line));
            }
            return out;
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }
}
