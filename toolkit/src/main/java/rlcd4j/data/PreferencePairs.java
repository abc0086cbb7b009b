package rlcd4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.NumericColumn;
import tech.tablesaw.api.Table;

/**
 * Preference pairs, the hand-off from simulation to training: an immutable list of {@link PairRow}s, one per prompt,
 * whatever became of it ({@link PairStatus}). The simulator returns one; the trainers take one and learn from its
 * {@link #kept()} rows only.
 *
 * <p>Files: the pairs JSONL the simulator writes ({@link SimulationLog}), TRL's preference JSONL ({@link TrlJsonl})
 * and AlpacaFarm's CSV ({@link AlpacaFarmCsv}); {@link #read} tells them apart. {@link #table()} is the Tablesaw view
 * notebooks display, with the columns of {@link PairsTable}.
 */
public final class PreferencePairs {
    private final String name;
    private final List<PairRow> rows;

    private PreferencePairs(String name, List<PairRow> rows) {
        this.name = name == null ? "" : name;
        this.rows = List.copyOf(rows);
    }

    public static PreferencePairs of(String name, List<PairRow> rows) {
        return new PreferencePairs(name, rows);
    }

    /** Pairs made in memory with hard labels ({@code p_chosen} 1), ids 0..n-1. */
    public static PreferencePairs of(String name, List<String> prompts, List<String> chosen, List<String> rejected) {
        double[] ones = new double[prompts.size()];
        java.util.Arrays.fill(ones, 1.0);
        return of(name, prompts, chosen, rejected, ones);
    }

    /** Pairs made in memory with the probability that {@code chosen} is better, ids 0..n-1. */
    public static PreferencePairs of(
            String name, List<String> prompts, List<String> chosen, List<String> rejected, double[] pChosen) {
        int n = prompts.size();
        if (chosen.size() != n || rejected.size() != n || pChosen.length != n) {
            throw new RlcdException(name + ": " + n + " prompts, " + chosen.size() + " chosen, " + rejected.size()
                    + " rejected and " + pChosen.length + " labels; expected as many of each");
        }
        List<PairRow> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            rows.add(labelled(
                    i, "", "", prompts.get(i), chosen.get(i), rejected.get(i), pChosen[i], name + ": pair " + i));
        }
        return new PreferencePairs(name, rows);
    }

    /** An {@code ok} row; {@code where} names it in the error for a label outside [0, 1]. */
    static PairRow labelled(
            int id,
            String task,
            String method,
            String prompt,
            String chosen,
            String rejected,
            double pChosen,
            String where) {
        if (!(pChosen >= 0 && pChosen <= 1)) {
            throw new RlcdException(
                    where + ": field \"p_chosen\" is " + pChosen + "; expected a probability in [0, 1]");
        }
        return new PairRow(
                id,
                task,
                method,
                prompt,
                "",
                "",
                "",
                -1,
                -1,
                "",
                chosen,
                rejected,
                "",
                Double.NaN,
                Double.NaN,
                Double.NaN,
                pChosen,
                PairStatus.OK,
                -1,
                "");
    }

    public String name() {
        return name;
    }

    /** All rows, in order (file order for a file; prompt order for a simulation). */
    public List<PairRow> rows() {
        return rows;
    }

    public int size() {
        return rows.size();
    }

    public PairRow get(int i) {
        return rows.get(i);
    }

    /** The rows with a pair ({@link PairStatus#OK}): what the trainers learn from. */
    public PreferencePairs kept() {
        if (count(PairStatus.OK) == rows.size()) return this;
        return new PreferencePairs(
                name, rows.stream().filter(r -> r.status() == PairStatus.OK).toList());
    }

    public int count(PairStatus status) {
        return (int) rows.stream().filter(r -> r.status() == status).count();
    }

    public List<String> prompts() {
        return rows.stream().map(PairRow::prompt).toList();
    }

    public List<String> chosen() {
        return rows.stream().map(PairRow::chosen).toList();
    }

    public List<String> rejected() {
        return rows.stream().map(PairRow::rejected).toList();
    }

    /** The probability that {@code chosen} is better, per row (NaN for a row without a pair). */
    public double[] pChosen() {
        return rows.stream().mapToDouble(PairRow::pChosen).toArray();
    }

    /** The rows at {@code indices}, in that order. */
    public PreferencePairs select(int[] indices) {
        List<PairRow> out = new ArrayList<>(indices.length);
        for (int i : indices) out.add(rows.get(i));
        return new PreferencePairs(name, out);
    }

    /** The Tablesaw view (columns of {@link PairsTable#COLUMNS}), for notebooks and reports. */
    public Table table() {
        return PairsTable.toTable(name, rows);
    }

    /**
     * Pairs from a table: a pairs table as {@link #table()} makes it (a notebook's run folder stores it so), or any
     * table with text columns {@code prompt}, {@code chosen}, {@code rejected} and optionally a numeric
     * {@code p_chosen} (else 1: hard labels), whose rows are all {@code ok}.
     */
    public static PreferencePairs fromTable(Table t) {
        String what = t.name() == null || t.name().isEmpty() ? "table" : "table " + t.name();
        if (t.containsColumn("status")) {
            for (String c : PairsTable.COLUMNS) {
                if (!t.containsColumn(c)) {
                    throw new RlcdException(what + ": a pairs table (it has a status column) without column \"" + c
                            + "\"; columns are " + t.columnNames());
                }
            }
            try {
                return new PreferencePairs(t.name(), PairsTable.rows(t));
            } catch (IllegalArgumentException | ClassCastException e) {
                throw new RlcdException(what + ": not a pairs table (" + e.getMessage() + ")", e);
            }
        }
        List<String> prompts = texts(t, "prompt", what),
                chosen = texts(t, "chosen", what),
                rejected = texts(t, "rejected", what);
        List<PairRow> rows = new ArrayList<>(t.rowCount());
        NumericColumn<?> p = null;
        if (t.containsColumn("p_chosen")) {
            if (!(t.column("p_chosen") instanceof NumericColumn<?> col)) {
                throw new RlcdException(what + ": column \"p_chosen\" must be numeric (a probability in [0, 1])");
            }
            p = col;
        }
        for (int i = 0; i < t.rowCount(); i++) {
            double label = p == null ? 1.0 : p.getDouble(i);
            String where = what + ": row " + (i + 1);
            rows.add(labelled(i, "", "", prompts.get(i), chosen.get(i), rejected.get(i), label, where));
        }
        return new PreferencePairs(t.name(), rows);
    }

    private static List<String> texts(Table t, String column, String what) {
        if (!t.containsColumn(column)) {
            throw new RlcdException(what + ": column \"" + column + "\" is missing; columns are " + t.columnNames());
        }
        List<String> out = new ArrayList<>(t.rowCount());
        var col = t.column(column);
        for (int i = 0; i < t.rowCount(); i++) {
            if (col.isMissing(i)) {
                throw new RlcdException(what + ": row " + (i + 1) + ", column \"" + column + "\" is empty");
            }
            out.add(col.getString(i));
        }
        return out;
    }

    // ---- files ----

    /**
     * Reads pairs from a file, telling the formats apart: {@code .csv} with AlpacaFarm's header is
     * {@link AlpacaFarmCsv}, any other {@code .csv} needs columns {@code prompt}, {@code chosen}, {@code rejected}
     * (and optionally {@code p_chosen}); {@code .jsonl(.gz)} whose first line has a {@code status} is the simulator's
     * pairs JSONL (dropped and error rows included: {@link #kept()} leaves them out), otherwise TRL's JSONL. Bad input
     * gives one error naming the file, the line and the field.
     */
    public static PreferencePairs read(Path file) {
        if (!Files.isRegularFile(file)) throw new RlcdException(file + ": no such file");
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".csv")) return readCsv(file);
        if (!name.endsWith(".jsonl")
                && !name.endsWith(".jsonl.gz")
                && !name.endsWith(".json")
                && !name.endsWith(".json.gz")) {
            throw new RlcdException(file + ": expected a .jsonl, .jsonl.gz or .csv file");
        }
        List<DataFiles.Line> lines = JsonlLines.read(file);
        if (lines.isEmpty()) throw new RlcdException(file + ": empty file (no JSON lines)");
        if (!isPairsJsonl(file, lines)) return TrlJsonl.read(file, lines, "", "");
        if (!name.endsWith(".gz")) return readJsonl(file);
        List<PairRow> rows = new ArrayList<>(lines.size());
        for (DataFiles.Line l : lines) {
            try {
                rows.add(PairsTable.fromJson(Json.parseObject(l.text())));
            } catch (IllegalArgumentException e) {
                throw RlcdException.at(file, l.number(), "not a pairs row (" + e.getMessage() + ")");
            }
        }
        return new PreferencePairs(file.getFileName().toString(), rows);
    }

    /** Whether {@code file} is the simulator's pairs JSONL: a {@code .jsonl(.gz)} whose first line has a status. */
    public static boolean isPairsJsonl(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".jsonl") && !name.endsWith(".jsonl.gz")) return false;
        List<DataFiles.Line> lines = JsonlLines.read(file);
        return !lines.isEmpty() && isPairsJsonl(file, lines);
    }

    private static boolean isPairsJsonl(Path file, List<DataFiles.Line> lines) {
        try {
            return Json.parseObject(lines.get(0).text()).has("status");
        } catch (IllegalArgumentException e) {
            throw RlcdException.at(file, lines.get(0).number(), e.getMessage());
        }
    }

    private static PreferencePairs readCsv(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        List<Csv.Record> recs = Csv.parse(file.toString(), text);
        if (recs.isEmpty()) throw new RlcdException(file + ": empty file (expected a header)");
        List<String> header = recs.get(0).fields();
        if (header.equals(AlpacaFarmCsv.RLCD_HEADER) || header.equals(AlpacaFarmCsv.SCORED_HEADER)) {
            return AlpacaFarmCsv.read(file, "", "");
        }
        int prompt = column(file, header, "prompt"),
                chosen = column(file, header, "chosen"),
                rejected = column(file, header, "rejected"),
                p = header.indexOf("p_chosen");
        List<PairRow> rows = new ArrayList<>();
        for (int i = 1; i < recs.size(); i++) {
            Csv.Record rec = recs.get(i);
            List<String> f = rec.fields();
            if (f.size() != header.size()) {
                throw RlcdException.at(file, rec.line(), "expected " + header.size() + " fields, got " + f.size());
            }
            double label = 1.0;
            if (p >= 0) {
                try {
                    label = Double.parseDouble(f.get(p));
                } catch (NumberFormatException e) {
                    throw RlcdException.at(
                            file, rec.line(), "field \"p_chosen\" must be a number, got '" + f.get(p) + "'");
                }
            }
            rows.add(labelled(
                    i - 1, "", "", f.get(prompt), f.get(chosen), f.get(rejected), label, file + ":" + rec.line()));
        }
        return new PreferencePairs(file.getFileName().toString(), rows);
    }

    private static int column(Path file, List<String> header, String name) {
        int i = header.indexOf(name);
        if (i < 0) {
            throw RlcdException.at(
                    file,
                    1,
                    "expected a column \"" + name + "\" (prompt, chosen, rejected[, p_chosen]) "
                            + "or AlpacaFarm's header " + String.join(",", AlpacaFarmCsv.RLCD_HEADER)
                            + "[,win2_prob]; got "
                            + String.join(",", header));
        }
        return i;
    }

    /** The simulator's pairs JSONL ({@link SimulationLog}); a torn last line of a run still going is left out. */
    public static PreferencePairs readJsonl(Path file) {
        return new PreferencePairs(file.getFileName().toString(), SimulationLog.read(file));
    }

    /** Writes every row as the simulator's pairs JSONL (a new file; it refuses to overwrite one). */
    public void writeJsonl(Path out) {
        if (Files.exists(out)) throw new RlcdException(out + ": exists; refusing to overwrite a pairs file");
        try (SimulationLog log = SimulationLog.open(out)) {
            log.appendAll(rows);
        }
    }

    /** TRL's preference JSONL, {@code ok} rows only; see {@link TrlJsonl}. */
    public static PreferencePairs readTrl(Path file, String task, String method) {
        return TrlJsonl.read(file, task, method);
    }

    public void writeTrl(Path out) {
        TrlJsonl.write(this, out);
    }

    /** AlpacaFarm's CSV, {@code ok} rows only; see {@link AlpacaFarmCsv}. */
    public static PreferencePairs readAlpacaFarmCsv(Path file, String task, String method) {
        return AlpacaFarmCsv.read(file, task, method);
    }

    public void writeAlpacaFarmCsv(Path out, long seed) {
        AlpacaFarmCsv.write(this, out, seed);
    }

    @Override
    public String toString() {
        return name + ": " + size() + " pairs (" + count(PairStatus.OK) + " ok, " + count(PairStatus.DROPPED)
                + " dropped, " + count(PairStatus.ERROR) + " errors)";
    }
}
