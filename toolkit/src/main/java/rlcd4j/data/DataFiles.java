package rlcd4j.data;

import rlcd4j.util.RlcdException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The project's data files (paper texts, our premise set): read from the classpath at {@code rlcd4j/datasets/...}
 * (where toolkit/pom.xml packages {@code /datasets}) or from a file path.
 */
public final class DataFiles {
    private DataFiles() {}

    /** A line of a data file with its 1-based line number (for error messages). */
    public record Line(int number, String text) {}

    /** Lines of the bundled file {@code datasets/<relative>}, e.g. {@code "descriptions/harmlessness.tsv"}. */
    public static List<Line> bundled(String relative) {
        String resource = "rlcd4j/datasets/" + relative;
        InputStream in = DataFiles.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) throw new RlcdException("bundled data file not on the classpath: " + resource);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return readLines(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines of a UTF-8 file on disk. */
    public static List<Line> file(Path path) {
        if (!Files.isRegularFile(path)) throw new RlcdException(path + ": no such file");
        try (BufferedReader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            return readLines(r);
        } catch (IOException e) {
            throw new RlcdException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Content lines: '#' comment lines and blank lines are dropped; the number of each kept line is kept.
     * Only '\n' ends a line (a trailing '\r' is removed), so texts may hold any other character.
     */
    public static List<Line> content(List<Line> lines) {
        List<Line> out = new ArrayList<>();
        for (Line l : lines) {
            if (l.text().isBlank() || l.text().startsWith("#")) continue;
            out.add(l);
        }
        return out;
    }

    private static List<Line> readLines(BufferedReader r) throws IOException {
        List<Line> out = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        int n = 0, c;
        boolean any = false;
        while ((c = r.read()) != -1) {
            any = true;
            if (c == '\n') {
                out.add(new Line(++n, stripCr(sb)));
                sb.setLength(0);
                any = false;
            } else {
                sb.append((char) c);
            }
        }
        if (any) out.add(new Line(++n, stripCr(sb)));
        return out;
    }

    private static String stripCr(StringBuilder sb) {
        int len = sb.length();
        return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
    }
}
