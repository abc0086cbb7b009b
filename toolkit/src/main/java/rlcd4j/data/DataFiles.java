package rlcd4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import rlcd4j.util.BuildVersion;
import rlcd4j.util.RlcdException;

/**
 * The project's data files (paper texts, our premise set): read from the classpath at {@code rlcd4j/datasets/...}
 * (where toolkit/pom.xml packages {@code /datasets}) or from a file path.
 */
public final class DataFiles {
    private static final String BUNDLED = "rlcd4j/datasets/";

    private DataFiles() {}

    /** A line of a data file with its 1-based line number (for error messages). */
    public record Line(int number, String text) {}

    /** Lines of the bundled file {@code datasets/<relative>}, e.g. {@code "descriptions/harmlessness.tsv"}. */
    public static List<Line> bundled(String relative) {
        String resource = BUNDLED + relative;
        InputStream in = DataFiles.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) throw new RlcdException("bundled data file not on the classpath: " + resource);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return readLines(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The bundled {@code datasets/} folder as a folder on disk, for what must be read as files (a model's weights are
     * memory-mapped): the folder itself when the classes run from a build folder, else a copy that the first call
     * extracts from the jar into {@code ~/.cache/rlcd4j/<version>-<crc>/datasets} ({@code $XDG_CACHE_HOME} replaces
     * {@code ~/.cache}; the CRC of the jar's entries tells two builds of one snapshot version apart). Null when the
     * class path holds no bundled datasets.
     */
    public static Path bundledRoot() {
        URL url = DataFiles.class.getClassLoader().getResource(BUNDLED);
        if (url == null) return null;
        try {
            if (url.getProtocol().equals("file")) return Path.of(url.toURI());
            if (!url.getProtocol().equals("jar")) return null;
            JarURLConnection conn = (JarURLConnection) url.openConnection();
            conn.setUseCaches(false);
            try (JarFile jar = conn.getJarFile()) {
                return extracted(jar, conn.getEntryName());
            }
        } catch (IOException e) {
            throw new RlcdException("cannot extract the bundled datasets from " + url + ": " + e.getMessage(), e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path extracted(JarFile jar, String prefix) throws IOException {
        List<JarEntry> entries = jar.stream()
                .filter(e -> e.getName().startsWith(prefix) && !e.isDirectory())
                .sorted(Comparator.comparing(JarEntry::getName))
                .toList();
        CRC32 crc = new CRC32();
        for (JarEntry e : entries) {
            crc.update(e.getName().getBytes(StandardCharsets.UTF_8));
            crc.update(Long.toString(e.getCrc()).getBytes(StandardCharsets.UTF_8));
        }
        Path dir = cacheFolder().resolve(BuildVersion.get() + "-" + Long.toHexString(crc.getValue()));
        Path target = dir.resolve("datasets");
        if (Files.isDirectory(target)) return target;
        // Extract beside the target, then rename: another JVM never sees a half-written folder.
        Files.createDirectories(dir);
        Path staging = Files.createTempDirectory(dir, ".datasets-");
        try {
            for (JarEntry e : entries) {
                Path file =
                        staging.resolve(e.getName().substring(prefix.length())).normalize();
                if (!file.startsWith(staging)) throw new IOException(e.getName() + ": outside the datasets folder");
                Files.createDirectories(file.getParent());
                try (InputStream in = jar.getInputStream(e)) {
                    Files.copy(in, file);
                }
            }
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (!Files.isDirectory(target)) throw e; // else another JVM extracted the same build first
            }
        } finally {
            deleteTree(staging);
        }
        return target;
    }

    private static Path cacheFolder() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("rlcd4j");
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
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
