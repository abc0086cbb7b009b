package rlcd4j.pipeline;

import rlcd4j.RlcdException;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvReadOptions;
import tech.tablesaw.io.csv.CsvWriteOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A folder that holds every stage of a run, so a stopped run continues where it stopped: a stage whose result is on
 * disk (its {@code .done} marker written after the result) is read back instead of recomputed.
 *
 * <pre>{@code
 * RunFolder run = RunFolder.at(Path.of("runs/demo"));
 * Table pairs = run.table("pairs-rlcd", () -> Simulator.run(...));
 * Path pm = run.folder("pm-rlcd", dir -> trainer.train(...).save(dir));
 * }</pre>
 */
public final class RunFolder {
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
                    throw new RlcdException(file + ": this run folder was made with other settings (" + old.strip()
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
     * {@code id} column of digits into integers, or a column of 1.0s into integers).
     */
    public Table table(String stage, Supplier<Table> compute) {
        Path file = root.resolve(stage + ".csv");
        Path types = root.resolve(stage + ".types");
        if (done(stage) && Files.exists(file)) {
            try {
                CsvReadOptions.Builder b = CsvReadOptions.builder(file.toFile()).tableName(stage).maxCharsPerColumn(1 << 20);
                if (Files.exists(types)) {
                    b.columnTypes(Files.readAllLines(types, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank())
                            .map(ColumnType::valueOf).toArray(ColumnType[]::new));
                }
                return Table.read().usingOptions(b);
            } catch (IOException e) {
                throw new RlcdException(types + ": cannot read: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new RlcdException(file + ": cannot read the saved stage (delete it and " + marker(stage).getFileName() + " to recompute): " + e.getMessage(), e);
            }
        }
        Table t = compute.get();
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
        markDone(stage);
        return t;
    }

    /**
     * A stage whose result is a folder (a model, an adapter): {@code produce} writes into {@code <stage>/}, and the
     * stage is done once it returns. A half-written folder from a killed run is produced again (the producer may
     * resume from checkpoints it left there).
     */
    public Path folder(String stage, Consumer<Path> produce) {
        Path dir = root.resolve(stage);
        if (done(stage) && Files.isDirectory(dir)) return dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new RlcdException(dir + ": cannot create: " + e.getMessage(), e);
        }
        produce.accept(dir);
        markDone(stage);
        return dir;
    }
}
