package rlcd4j.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.WeakHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.engine.CausalLM;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvReadOptions;
import tech.tablesaw.io.csv.CsvWriteOptions;

/**
 * A folder that holds every stage of a run, so a stopped run continues where it stopped: a stage whose result is on
 * disk (its {@code .done} marker written after the result) is read back instead of recomputed.
 *
 * <p>A stage given its settings is keyed by them: {@code <stage>.settings} records a fingerprint of each (records
 * component by component, tables and files by content, this folder's stages by their own settings), and a rerun
 * whose settings differ recomputes the stage, saying which setting changed. Passing a stage's result (its table or
 * folder) as a setting of the next stage makes the next stage follow it: when the first is recomputed with another
 * result, so is the second. A stage that resumes inside itself (simulation, decoding) keeps its partial results in
 * {@link #resumeFile}, which is deleted when the stage's settings change, so a resume never mixes in results of other
 * settings.
 *
 * <p>Every public stage method takes settings: a stage keyed by its name only would be read back after any change
 * (issue 24). The name-only form is left to {@link Demo}, whose whole folder is keyed by {@link #requireSettings}.
 *
 * <pre>{@code
 * RunFolder run = RunFolder.at(Path.of("runs/demo"));
 * Table pairs = run.table("pairs-rlcd", Map.of("generation", sample, "prompts", prompts, "model", model),
 *         () -> Simulator.run(...));
 * Path pm = run.folder("pm-rlcd", Map.of("pairs", pairs, "trainer", config), dir -> trainer.train(...).save(dir));
 * }</pre>
 */
public final class RunFolder {
    private static final Logger LOG = LoggerFactory.getLogger(RunFolder.class);
    private final Path root;

    private RunFolder(Path root) {
        this.root = root;
    }

    public static RunFolder at(Path root) {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new RlcdException(root + ": cannot create the run folder: " + e.getMessage(), e);
        }
        return new RunFolder(root);
    }

    /**
     * Records the settings the stages depend on ({@code settings.txt}); a folder made with other settings is refused,
     * so a rerun never mixes stages computed under different options.
     */
    public RunFolder requireSettings(String settings) {
        Path file = root.resolve("settings.txt");
        try {
            if (Files.exists(file)) {
                String old = Files.readString(file, StandardCharsets.UTF_8);
                if (!old.equals(settings)) {
                    throw new RlcdException(file + ": this run folder was made with other settings ("
                            + changedFields(old.strip(), settings.strip())
                            + "); use another output folder, or delete this one to start again");
                }
            } else {
                Files.writeString(file, settings, StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new RlcdException(file + ": " + e.getMessage(), e);
        }
        return this;
    }

    public Path root() {
        return root;
    }

    public boolean done(String stage) {
        return Files.exists(marker(stage));
    }

    private Path marker(String stage) {
        return root.resolve(stage + ".done");
    }

    private void markDone(String stage) {
        try {
            Files.writeString(marker(stage), Instant.now().toString() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(marker(stage) + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * A table stage, stored as CSV ({@code <stage>.csv}) with its column types beside it ({@code <stage>.types}, one
     * Tablesaw type per line), so that a reread table has the types the computed one had (CSV alone would turn an
     * {@code id} column of digits into integers, or a column of 1.0s into integers). Keyed by its name only, so only
     * for a folder keyed as a whole by {@link #requireSettings}; refused for a stage saved with settings.
     */
    Table table(String stage, Supplier<Table> compute) {
        refuseNameOnly(stage);
        return tableStage(stage, null, compute);
    }

    /**
     * A table stage keyed by {@code settings} (name to value; see the class comment): read back when it was done
     * with the same settings, else computed again. Stored as CSV with its column types ({@code table(stage, compute)}).
     */
    public Table table(String stage, Map<String, ?> settings, Supplier<Table> compute) {
        return tableStage(stage, key(stage, settings), compute);
    }

    private Table tableStage(String stage, String key, Supplier<Table> compute) {
        Path file = root.resolve(stage + ".csv");
        Path types = root.resolve(stage + ".types");
        if (done(stage) && Files.exists(file) && upToDate(stage, key)) {
            Table t = readTable(stage, file, types);
            remember(t, stage, file);
            return t;
        }
        unmarkDone(stage);
        startKey(stage, key);
        Table t = compute.get();
        writeTable(t, file, types);
        markDone(stage);
        remember(t, stage, file);
        return t;
    }

    private Table readTable(String stage, Path file, Path types) {
        try {
            CsvReadOptions.Builder b =
                    CsvReadOptions.builder(file.toFile()).tableName(stage).maxCharsPerColumn(1 << 20);
            if (Files.exists(types)) {
                b.columnTypes(Files.readAllLines(types, StandardCharsets.UTF_8).stream()
                        .filter(l -> !l.isBlank())
                        .map(ColumnType::valueOf)
                        .toArray(ColumnType[]::new));
            }
            return Table.read().usingOptions(b);
        } catch (IOException e) {
            throw new RlcdException(types + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new RlcdException(
                    file + ": cannot read the saved stage (delete it and "
                            + marker(stage).getFileName() + " to recompute): " + e.getMessage(),
                    e);
        }
    }

    private static void writeTable(Table t, Path file, Path types) {
        try {
            t.write().usingOptions(CsvWriteOptions.builder(file.toFile()).build());
            StringBuilder sb = new StringBuilder();
            for (ColumnType c : t.types()) sb.append(c.name()).append('\n');
            Files.writeString(types, sb.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(types + ": cannot write: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new RlcdException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * A stage whose result is a folder (a model, an adapter): {@code produce} writes into {@code <stage>/}, and the
     * stage is done once it returns. A half-written folder from a killed run is produced again (the producer may
     * resume from checkpoints it left there). Keyed by its name only, as {@link #table(String, Supplier)}.
     */
    Path folder(String stage, Consumer<Path> produce) {
        refuseNameOnly(stage);
        return folderStage(stage, null, produce);
    }

    /**
     * The file where {@code stage} keeps its partial results while it computes (a simulation's or a decoding's JSONL,
     * {@code <stage>.jsonl}), so that a killed stage resumes. It is deleted when the stage is started with other
     * settings than the ones it was started with.
     */
    public Path resumeFile(String stage) {
        return root.resolve(stage + ".jsonl");
    }

    private void refuseNameOnly(String stage) {
        if (readKey(stage) != null) {
            throw new RlcdException(keyFile(stage) + ": stage '" + stage + "' was saved with its settings; pass them"
                    + " (a stage keyed by its name only would be read back after any change)");
        }
    }

    /**
     * A folder stage keyed by {@code settings} (see the class comment). When they differ from the ones the folder
     * was made or started with, the folder is emptied first, so no checkpoint of other settings is resumed.
     */
    public Path folder(String stage, Map<String, ?> settings, Consumer<Path> produce) {
        return folderStage(stage, key(stage, settings), produce);
    }

    private Path folderStage(String stage, String key, Consumer<Path> produce) {
        Path dir = root.resolve(stage);
        if (done(stage) && Files.isDirectory(dir) && upToDate(stage, key)) return dir;
        unmarkDone(stage);
        try {
            if (key != null && !key.equals(readKey(stage))) deleteTree(dir);
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new RlcdException(dir + ": cannot create: " + e.getMessage(), e);
        }
        startKey(stage, key);
        produce.accept(dir);
        markDone(stage);
        return dir;
    }

    /**
     * A training stage: {@code train} writes its model into {@code <stage>/} and returns its training log, which is
     * saved as {@code <stage>/log.csv} (with {@code log.types}) and returned as a table; a done stage returns the
     * saved log. Keyed by {@code settings} as {@link #folder(String, Map, Consumer)}; the model folder is
     * {@code root().resolve(stage)}.
     */
    public Table trainingLog(String stage, Map<String, ?> settings, Function<Path, Table> train) {
        Table[] log = new Table[1];
        Path dir = folder(stage, settings, d -> {
            log[0] = train.apply(d);
            if (log[0] == null) throw new RlcdException("stage '" + stage + "': the training returned no log table");
            writeTable(log[0], d.resolve("log.csv"), d.resolve("log.types"));
        });
        if (log[0] == null) {
            if (!Files.exists(dir.resolve("log.csv"))) {
                throw new RlcdException(
                        dir.resolve("log.csv") + ": missing from a done stage; delete " + dir + " to train again");
            }
            log[0] = readTable(stage + " log", dir.resolve("log.csv"), dir.resolve("log.types"));
        }
        remember(log[0], stage, dir.resolve("log.csv"));
        return log[0];
    }

    // ---- settings keys ----

    /** Tables this JVM read or computed as stages, with the stage and its CSV, so a table setting names its stage. */
    private static final Map<Table, String> STAGE_TABLES = Collections.synchronizedMap(new WeakHashMap<>());

    private void remember(Table t, String stage, Path csv) {
        // The saved file's digest, not the table's: a computed table and its reread copy must key alike.
        STAGE_TABLES.put(t, "stage '" + stage + "', sha256 " + digest(csv));
    }

    private Path keyFile(String stage) {
        return root.resolve(stage + ".settings");
    }

    private String readKey(String stage) {
        Path f = keyFile(stage);
        try {
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            throw new RlcdException(f + ": cannot read: " + e.getMessage(), e);
        }
    }

    private void writeKey(String stage, String key) {
        Path f = keyFile(stage);
        try {
            if (key == null) Files.deleteIfExists(f);
            else Files.writeString(f, key, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(f + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * Records {@code key} before the stage computes, so a killed stage resumes its partial results (its
     * {@link #resumeFile}, a folder's checkpoints) only under the same settings; other settings delete them.
     */
    private void startKey(String stage, String key) {
        try {
            if (key != null && !key.equals(readKey(stage))) Files.deleteIfExists(resumeFile(stage));
        } catch (IOException e) {
            throw new RlcdException(resumeFile(stage) + ": cannot delete: " + e.getMessage(), e);
        }
        writeKey(stage, key);
    }

    /** Whether a done stage was made with {@code key}; when not, logs which settings changed. */
    private boolean upToDate(String stage, String key) {
        if (key == null) return true;
        String old = readKey(stage);
        if (key.equals(old)) return true;
        LOG.info(
                "run folder {}: recomputing stage '{}' (and the stages that use it): {}",
                root,
                stage,
                old == null ? "it was saved without its settings" : changedSettings(old, key));
        return false;
    }

    private void unmarkDone(String stage) {
        try {
            Files.deleteIfExists(marker(stage));
        } catch (IOException e) {
            throw new RlcdException(marker(stage) + ": cannot delete: " + e.getMessage(), e);
        }
    }

    private String key(String stage, Map<String, ?> settings) {
        if (settings == null) {
            throw new RlcdException("stage '" + stage + "': no settings given; pass what its result depends on"
                    + " (Map.of() when nothing)");
        }
        return key(settings);
    }

    /** One line per setting, {@code name = fingerprint}, records flattened into {@code name.component} lines. */
    String key(Map<String, ?> settings) {
        Map<String, String> lines = new TreeMap<>();
        for (Map.Entry<String, ?> e : new TreeMap<String, Object>(settings).entrySet()) {
            flatten(e.getKey(), e.getValue(), lines, 0);
        }
        StringBuilder sb = new StringBuilder();
        lines.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        return sb.toString();
    }

    private void flatten(String name, Object value, Map<String, String> out, int depth) {
        if (depth > 8) throw new RlcdException("setting '" + name + "': nested too deeply to fingerprint");
        if (value instanceof Record r) {
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                Object v;
                try {
                    c.getAccessor().setAccessible(true);
                    v = c.getAccessor().invoke(r);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new RlcdException(
                            "setting '" + name + "': cannot read " + c.getName() + " of "
                                    + r.getClass().getSimpleName(),
                            e);
                }
                flatten(name + "." + c.getName(), v, out, depth + 1);
            }
            if (r.getClass().getRecordComponents().length == 0)
                out.put(name, r.getClass().getName());
        } else if (value instanceof Map<?, ?> m) {
            Map<String, Object> sorted = new TreeMap<>();
            m.forEach((k, v) -> sorted.put(String.valueOf(k), v));
            sorted.forEach((k, v) -> flatten(name + "[" + k + "]", v, out, depth + 1));
            if (m.isEmpty()) out.put(name, "{}");
        } else {
            out.put(name, fingerprint(name, value));
        }
    }

    /** A value's fingerprint: itself for short scalars, else what it is and a digest of its content. */
    private String fingerprint(String name, Object v) {
        if (v == null) return "null";
        if (v instanceof CharSequence
                || v instanceof Number
                || v instanceof Boolean
                || v instanceof Character
                || v instanceof Enum<?>) {
            String s =
                    String.valueOf(v).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r");
            return s.length() <= 120 ? s : s.length() + " chars, sha256 " + sha256(s.getBytes(StandardCharsets.UTF_8));
        }
        if (v instanceof PreferencePairs pairs) return fingerprint(name, pairs.table());
        if (v instanceof Table t) {
            String stage = STAGE_TABLES.get(t);
            if (stage != null) return stage;
            ByteArrayOutputStream csv = new ByteArrayOutputStream();
            t.write().usingOptions(CsvWriteOptions.builder(csv).build());
            return "table, " + t.rowCount() + " rows, sha256 " + sha256(csv.toByteArray());
        }
        if (v instanceof Path p) return pathFingerprint(p);
        if (v instanceof CausalLM lm) {
            return "model " + lm.name() + (lm.folder() == null ? "" : ", " + pathFingerprint(lm.folder()));
        }
        if (v instanceof PromptSet ps) return "prompts " + ps.task() + ", " + fingerprint(name, ps.entries());
        if (v instanceof Collection<?> || v.getClass().isArray()) {
            List<String> items = new ArrayList<>();
            if (v instanceof Collection<?> c) for (Object x : c) items.add(itemFingerprint(name, x));
            else for (int i = 0; i < Array.getLength(v); i++) items.add(itemFingerprint(name, Array.get(v, i)));
            String shown = String.join(", ", items);
            return shown.length() <= 120
                    ? "[" + shown + "]"
                    : items.size() + " items, sha256 "
                            + sha256(String.join("\n", items).getBytes(StandardCharsets.UTF_8));
        }
        if (v instanceof Record) {
            Map<String, String> inner = new TreeMap<>();
            flatten(name, v, inner, 1);
            return inner.toString();
        }
        try {
            if (v.getClass().getMethod("toString").getDeclaringClass() != Object.class) {
                return v.getClass().getSimpleName() + " " + fingerprint(name, v.toString());
            }
        } catch (NoSuchMethodException e) {
            // every class has toString
        }
        throw new RlcdException(
                "setting '" + name + "': cannot fingerprint a " + v.getClass().getName()
                        + " (no content, no toString of its own); pass what defines it: a record, string, number, path"
                        + " or table");
    }

    private String itemFingerprint(String name, Object x) {
        String s = fingerprint(name, x);
        return x instanceof Record ? s : s.replace(", ", ",");
    }

    /**
     * A stage folder of this run (or a file in it): the stage and its own settings, or its completion time when it
     * has none. Any other file or folder: its name, and its files' names, sizes and contents (over 64 MB: size and
     * modification time).
     */
    private String pathFingerprint(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path base = root.toAbsolutePath().normalize();
        if (abs.startsWith(base) && !abs.equals(base)) {
            String stage = base.relativize(abs).getName(0).toString();
            String key = readKey(stage);
            String rest = base.relativize(abs).getNameCount() > 1
                    ? ", " + base.resolve(stage).relativize(abs)
                    : "";
            if (key != null) {
                String settings = sha256(key.getBytes(StandardCharsets.UTF_8));
                return "stage '" + stage + "'" + rest + ", settings sha256 " + settings;
            }
            if (done(stage)) {
                try {
                    String done = Files.readString(marker(stage), StandardCharsets.UTF_8)
                            .strip();
                    return "stage '" + stage + "'" + rest + ", done " + done;
                } catch (IOException e) {
                    throw new RlcdException(marker(stage) + ": cannot read: " + e.getMessage(), e);
                }
            }
        }
        if (!Files.exists(abs)) return abs + " (missing)";
        MessageDigest md = sha();
        long files = 0;
        try (Stream<Path> s = Files.walk(abs)) {
            for (Path f : s.filter(Files::isRegularFile)
                    .sorted(Comparator.comparing(Path::toString))
                    .toList()) {
                files++;
                long size = Files.size(f);
                md.update((abs.relativize(f) + "\n" + size + "\n").getBytes(StandardCharsets.UTF_8));
                String content =
                        size > (64L << 20) ? Files.getLastModifiedTime(f).toString() : digest(f);
                md.update(content.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new RlcdException(abs + ": cannot read: " + e.getMessage(), e);
        }
        // The content, not where it is: a moved checkout or an installed kernel's copy is the same model.
        return abs.getFileName() + " (" + files + " files, sha256 "
                + HexFormat.of().formatHex(md.digest()).substring(0, 16) + ")";
    }

    private static String digest(Path file) {
        MessageDigest md = sha();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest()).substring(0, 16);
    }

    private static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(sha().digest(bytes)).substring(0, 16);
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    /** "'a.b' 1 -> 2; 'c' added" for two keys written by {@link #key}. */
    static String changedSettings(String oldKey, String newKey) {
        Map<String, String> a = keyLines(oldKey), b = keyLines(newKey);
        List<String> changes = new ArrayList<>();
        for (Map.Entry<String, String> e : b.entrySet()) {
            String before = a.get(e.getKey());
            if (before == null) changes.add("'" + e.getKey() + "' added (" + e.getValue() + ")");
            else if (!before.equals(e.getValue())) {
                changes.add("'" + e.getKey() + "' " + before + " -> " + e.getValue());
            }
        }
        for (String k : a.keySet()) if (!b.containsKey(k)) changes.add("'" + k + "' removed");
        return changes.size() <= 3
                ? String.join("; ", changes)
                : String.join("; ", changes.subList(0, 3)) + "; and " + (changes.size() - 3) + " more";
    }

    private static Map<String, String> keyLines(String key) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : key.split("\n")) {
            int eq = line.indexOf(" = ");
            if (eq > 0) out.put(line.substring(0, eq), line.substring(eq + 3));
        }
        return out;
    }

    /**
     * The top-level fields that differ between two record texts ({@code Options[a=1, b=X[c=2]]}), e.g.
     * {@code ppoKl 0.05 -> 0.1}; the whole old text when they are not records of the same kind.
     */
    static String changedFields(String old, String now) {
        Map<String, String> a = recordFields(old), b = recordFields(now);
        if (a == null || b == null || !a.keySet().equals(b.keySet())) return "was: " + old;
        List<String> changes = new ArrayList<>();
        a.forEach((k, v) -> {
            if (!v.equals(b.get(k))) changes.add(k + " " + v + " -> " + b.get(k));
        });
        return changes.isEmpty() ? "was: " + old : "changed: " + String.join(", ", changes);
    }

    private static Map<String, String> recordFields(String text) {
        int open = text.indexOf('[');
        if (open < 0 || !text.endsWith("]")) return null;
        Map<String, String> out = new LinkedHashMap<>();
        String body = text.substring(open + 1, text.length() - 1);
        int depth = 0, start = 0;
        for (int i = 0; i <= body.length(); i++) {
            char c = i < body.length() ? body.charAt(i) : ',';
            if (c == '[' || c == '(' || c == '{') depth++;
            else if (c == ']' || c == ')' || c == '}') depth--;
            else if (c == ',' && depth == 0) {
                String field = body.substring(start, i).strip();
                int eq = field.indexOf('=');
                if (eq <= 0) return null;
                out.put(field.substring(0, eq), field.substring(eq + 1));
                start = i + 1;
            }
        }
        return out;
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
