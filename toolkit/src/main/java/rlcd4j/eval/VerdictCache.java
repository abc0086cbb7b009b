package rlcd4j.eval;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import rlcd4j.util.RlcdException;

/**
 * Judge answers on disk, one JSON object per line ({@code {"key":..., "model":..., "server":..., "response":...}};
 * {@code server} only for an API judge), appended and flushed as each answer arrives. A rerun finds every answer
 * already paid for, and an interrupted evaluation resumes where it stopped. The key is the SHA-256 of what decides the
 * answer (for the API judge: server URL, model, system message and prompt), so changing any of them asks again.
 * A last line cut short by a crash is removed from the file when it is opened; a bad line elsewhere is an error naming
 * the file and line.
 */
final class VerdictCache {
    private final Path file;
    private final Map<String, String> answers = new HashMap<>();
    private final Map<String, Integer> withoutServerByModel = new HashMap<>();
    private boolean needsNewline;

    VerdictCache(Path file) {
        this.file = file;
        if (!Files.exists(file)) return;
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            int last = lines.size();
            while (last > 0 && lines.get(last - 1).isBlank()) last--;
            for (int i = 0; i < last; i++) {
                String line = lines.get(i);
                if (line.isBlank()) continue;
                try {
                    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                    answers.put(o.get("key").getAsString(), o.get("response").getAsString());
                    if (!o.has("server") && o.has("model"))
                        withoutServerByModel.merge(o.get("model").getAsString(), 1, Integer::sum);
                } catch (JsonParseException
                        | IllegalStateException
                        | NullPointerException
                        | UnsupportedOperationException e) {
                    if (i == last - 1) { // the write that was interrupted: drop it so that appends stay one per line
                        Files.write(file, lines.subList(0, i), StandardCharsets.UTF_8);
                        return;
                    }
                    throw RlcdException.at(
                            file,
                            i + 1,
                            "not a judge cache record (expected {\"key\":..., \"response\":...}): "
                                    + Outputs.abbreviate(line));
                }
            }
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                if (raf.length() > 0) {
                    raf.seek(raf.length() - 1);
                    needsNewline = raf.read() != '\n';
                }
            }
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read the judge cache (" + e.getMessage() + ")", e);
        }
    }

    /** SHA-256 over the parts, each followed by a zero byte. */
    static String key(String... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String s : parts) {
                md.update(s.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    synchronized String get(String key) {
        return answers.get(key);
    }

    synchronized void put(String key, String model, String response) {
        put(key, model, null, response);
    }

    /** Appends one answer; {@code server} (an API judge's normalised URL, or null) is kept for readers of the file. */
    synchronized void put(String key, String model, String server, String response) {
        JsonObject o = new JsonObject();
        o.addProperty("key", key);
        o.addProperty("model", model);
        if (server != null) o.addProperty("server", server);
        o.addProperty("response", response);
        try {
            if (file.toAbsolutePath().getParent() != null)
                Files.createDirectories(file.toAbsolutePath().getParent());
            try (Writer w = Files.newBufferedWriter(
                    file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                if (needsNewline) w.write('\n');
                w.write(o.toString());
                w.write('\n');
            }
            needsNewline = false;
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot append to the judge cache (" + e.getMessage() + ")", e);
        }
        answers.put(key, response);
    }

    /**
     * How many lines of {@code model} were read without a {@code server} field: answers of an API judge cached before
     * the key included the server URL (or a local judge's), which an API judge no longer finds.
     */
    synchronized int withoutServer(String model) {
        return withoutServerByModel.getOrDefault(model, 0);
    }

    synchronized int size() {
        return answers.size();
    }

    Path file() {
        return file;
    }
}
