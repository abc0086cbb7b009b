package rlcd4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import rlcd4j.util.PythonRandom;
import rlcd4j.util.PythonStrings;
import rlcd4j.util.RlaifLabel;
import rlcd4j.util.RlcdException;

/**
 * The CSV the paper's {@code consolidate_preference_data.py} writes for AlpacaFarm's reward-model training:
 * {@code instruction,input,output_1,output_2,preference} (+ {@code win2_prob} for rlaif / rlcd-rescore).
 *
 * <p>As the official script: only {@code ok} rows; {@code instruction} = the prompt stripped, {@code input} = "",
 * outputs stripped. RLCD: a {@link PythonRandom} seeded with {@code seed} (default 0) draws {@code random() < 0.5}
 * per row, in table order: true gives (chosen, rejected, preference 1), false (rejected, chosen, 2). Scored methods:
 * (A, B, 2 if P(B) > 0.5 else 1, P(B)). The official script visits its per-prompt files in {@code os.listdir}
 * order, which is file-system dependent; here rows go in table order (id order for a finished simulation).
 */
public final class AlpacaFarmCsv {
    private AlpacaFarmCsv() {}

    public static final List<String> RLCD_HEADER =
            List.of("instruction", "input", "output_1", "output_2", "preference");
    public static final List<String> SCORED_HEADER =
            List.of("instruction", "input", "output_1", "output_2", "preference", "win2_prob");

    public static void write(PreferencePairs pairs, Path out) {
        write(pairs, out, 0);
    }

    public static void write(PreferencePairs pairs, Path out, long seed) {
        try {
            if (out.getParent() != null) Files.createDirectories(out.getParent());
            Files.writeString(out, toCsv(pairs, seed), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(out + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    public static String toCsv(PreferencePairs pairs, long seed) {
        List<PairRow> ok = pairs.kept().rows();
        String method = ok.isEmpty() ? "rlcd" : ok.get(0).method();
        for (PairRow r : ok) {
            if (!r.method().equals(method)) {
                throw new RlcdException("pairs table mixes methods '" + method + "' and '" + r.method() + "' (row id "
                        + r.id() + "); export one method at a time");
            }
        }
        boolean scored = !method.equals("rlcd");
        StringBuilder sb = new StringBuilder(Csv.row(scored ? SCORED_HEADER : RLCD_HEADER));
        PythonRandom rng = new PythonRandom(seed);
        for (PairRow r : ok) {
            String instruction = PythonStrings.strip(r.prompt());
            if (!scored) {
                String chosen = PythonStrings.strip(r.chosen()), rejected = PythonStrings.strip(r.rejected());
                sb.append(
                        rng.random() < 0.5
                                ? Csv.row(List.of(instruction, "", chosen, rejected, "1"))
                                : Csv.row(List.of(instruction, "", rejected, chosen, "2")));
            } else {
                double win2 = r.pB();
                if (Double.isNaN(win2)) throw new RlcdException("row id " + r.id() + ": a scored row without p_b");
                sb.append(Csv.row(List.of(
                        instruction,
                        "",
                        PythonStrings.strip(r.outputA()),
                        PythonStrings.strip(r.outputB()),
                        Integer.toString(RlaifLabel.preference(win2)),
                        PyFloat.repr(win2))));
            }
        }
        return sb.toString();
    }

    /**
     * Reads such a CSV back as pairs ({@code status ok}, ids = data row index). Without {@code win2_prob}:
     * chosen = the preferred output, {@code p_chosen} 1.0. With it: A = output_1, B = output_2, {@code p_b} = win2_prob.
     */
    public static PreferencePairs read(Path file, String task, String method) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        List<Csv.Record> recs = Csv.parse(file.toString(), text);
        if (recs.isEmpty()) throw new RlcdException(file + ": empty file (expected a header " + RLCD_HEADER + ")");
        List<String> header = recs.get(0).fields();
        boolean scored = header.equals(SCORED_HEADER);
        if (!scored && !header.equals(RLCD_HEADER)) {
            throw RlcdException.at(
                    file,
                    1,
                    "expected the header " + String.join(",", RLCD_HEADER) + "[,win2_prob], got "
                            + String.join(",", header));
        }
        List<PairRow> rows = new ArrayList<>();
        for (int i = 1; i < recs.size(); i++) {
            Csv.Record rec = recs.get(i);
            List<String> f = rec.fields();
            if (f.size() != header.size()) {
                throw RlcdException.at(file, rec.line(), "expected " + header.size() + " fields, got " + f.size());
            }
            String pref = f.get(4);
            if (!pref.equals("1") && !pref.equals("2")) {
                throw RlcdException.at(file, rec.line(), "field \"preference\" must be 1 or 2, got '" + pref + "'");
            }
            PairRow base = new PairRow(
                    i - 1,
                    task,
                    method,
                    f.get(0),
                    "",
                    "",
                    "",
                    -1,
                    -1,
                    "",
                    "",
                    "",
                    "",
                    Double.NaN,
                    Double.NaN,
                    Double.NaN,
                    Double.NaN,
                    PairStatus.PLANNED,
                    -1,
                    "");
            if (!scored) {
                boolean first = pref.equals("1");
                rows.add(base.withRlcdResult(first ? f.get(2) : f.get(3), first ? f.get(3) : f.get(2), -1));
            } else {
                double win2;
                try {
                    win2 = Double.parseDouble(f.get(5));
                } catch (NumberFormatException e) {
                    throw RlcdException.at(
                            file, rec.line(), "field \"win2_prob\" must be a number, got '" + f.get(5) + "'");
                }
                rows.add(base.withScoredResult(f.get(2), f.get(3), Double.NaN, Double.NaN, win2, -1));
            }
        }
        return PreferencePairs.of(file.getFileName().toString(), rows);
    }
}
