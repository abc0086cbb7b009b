package rlcd4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.Json;
import rlcd4j.util.RlaifLabel;
import rlcd4j.util.RlcdException;

class FormatsTest {
    private static PairRow base(int id, String method, String prompt) {
        return new PairRow(
                id,
                "harmlessness",
                method,
                prompt,
                "",
                prompt,
                prompt,
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
                0,
                "");
    }

    static List<PairRow> rlcdRows() {
        return List.of(
                base(0, "rlcd", "Human: hi\n\nAssistant:").withRlcdResult("Hello, \"friend\"!", "Go away.", 2),
                base(1, "rlcd", "Human: a,b?\n\nAssistant:").withRlcdResult("line1\nline2", "x", 2),
                base(2, "rlcd", "Human: q\n\nAssistant:").withFailure(PairStatus.DROPPED, 10, "no_human_turn x5"),
                base(3, "rlcd", "Human: q\n\nAssistant:").withRlcdResult("yes", "no", 2));
    }

    @Test
    void alpacaFarmCsvIsByteExactWithThePapersConsolidation() {
        // Python: csv.DictWriter + random.seed(0) + random() < 0.5 per ok row, as consolidate_preference_data.py
        String expected =
                "instruction,input,output_1,output_2,preference\r\n\"Human: hi\n\nAssistant:\",,Go away.,\"Hello, \"\"friend\"\"!\",2\r\n\"Human: a,b?\n\nAssistant:\",,x,\"line1\nline2\",2\r\n\"Human: q\n\nAssistant:\",,yes,no,1\r\n";
        assertEquals(expected, AlpacaFarmCsv.toCsv(PreferencePairs.of("t", rlcdRows()), 0));
    }

    static List<PairRow> scoredRows() {
        double[][] logits = {{1.5, -0.25}, {-3.0, 4.0}, {2.0, 2.0}};
        String[][] out = {{" A text ", "B, text"}, {"yes", "no"}, {"same", "same2"}};
        String[] prompts = {"Human: hi\n\nAssistant:", "Human: q\n\nAssistant:", "Human: z\n\nAssistant:"};
        List<PairRow> rows = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            rows.add(base(i, "rlaif", prompts[i])
                    .withScoredResult(
                            out[i][0],
                            out[i][1],
                            logits[i][0],
                            logits[i][1],
                            RlaifLabel.probB(logits[i][0], logits[i][1]),
                            2));
        }
        return rows;
    }

    @Test
    void scoredCsvHasWin2ProbAsPythonPrintsIt() {
        String expected =
                "instruction,input,output_1,output_2,preference,win2_prob\r\n\"Human: hi\n\nAssistant:\",,A text,\"B, text\",1,0.1480471980316895\r\n\"Human: q\n\nAssistant:\",,yes,no,2,0.9990889488055994\r\n\"Human: z\n\nAssistant:\",,same,same2,1,0.5\r\n";
        List<PairRow> rows = scoredRows();
        assertEquals("B", rows.get(1).chosenSlot());
        assertEquals("no", rows.get(1).chosen());
        assertEquals(0.9990889488055994, rows.get(1).pChosen());
        assertEquals(1 - 0.1480471980316895, rows.get(0).pChosen());
        assertEquals(expected, AlpacaFarmCsv.toCsv(PreferencePairs.of("s", rows), 0));
    }

    @Test
    void csvRoundTrips(@TempDir Path dir) throws Exception {
        PreferencePairs pairs = PreferencePairs.of("t", rlcdRows());
        Path csv = dir.resolve("rlcd.csv");
        pairs.writeAlpacaFarmCsv(csv, 0);
        List<PairRow> back =
                PreferencePairs.readAlpacaFarmCsv(csv, "harmlessness", "rlcd").rows();
        assertEquals(3, back.size());
        assertEquals(
                List.of("Hello, \"friend\"!", "line1\nline2", "yes"),
                back.stream().map(PairRow::chosen).toList());
        assertEquals(
                List.of("Go away.", "x", "no"),
                back.stream().map(PairRow::rejected).toList());
        assertTrue(back.stream().allMatch(r -> r.pChosen() == 1.0 && r.ok()));

        Path scored = dir.resolve("rlaif.csv");
        AlpacaFarmCsv.write(PreferencePairs.of("s", scoredRows()), scored);
        PreferencePairs s = AlpacaFarmCsv.read(scored, "harmlessness", "rlaif");
        assertEquals(Files.readString(scored), AlpacaFarmCsv.toCsv(s, 0), "write(read(csv)) == csv");
        assertEquals(0.9990889488055994, s.get(1).pB());
        assertEquals(0.9990889488055994, s.table().doubleColumn("p_b").getDouble(1), "the table view");
    }

    @Test
    void badCsvNamesFileAndLine(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "instruction,input,output_1,output_2,preference\r\n\"a\nb\",,x,y,1\r\nc,,x,y\r\n");
        RlcdException e = assertThrows(RlcdException.class, () -> AlpacaFarmCsv.read(csv, "harmlessness", "rlcd"));
        assertEquals(csv + ":4: expected 5 fields, got 4", e.getMessage());
        Files.writeString(csv, "instruction,input,output_1,output_2,preference\r\n\"open,,x,y,1\r\n");
        e = assertThrows(RlcdException.class, () -> AlpacaFarmCsv.read(csv, "harmlessness", "rlcd"));
        assertEquals(csv + ":2: unterminated quoted field", e.getMessage());
        Files.writeString(csv, "a,b\r\n");
        e = assertThrows(RlcdException.class, () -> AlpacaFarmCsv.read(csv, "harmlessness", "rlcd"));
        assertTrue(e.getMessage().startsWith(csv + ":1: expected the header"), e.getMessage());
    }

    @Test
    void mixedMethodsAreRefused() {
        List<PairRow> mixed = List.of(
                rlcdRows().get(0),
                new PairRow(
                        9,
                        "harmlessness",
                        "rlaif",
                        "p",
                        "",
                        "",
                        "",
                        -1,
                        0,
                        "plain",
                        "a",
                        "b",
                        "A",
                        0,
                        0,
                        0.5,
                        0.5,
                        PairStatus.OK,
                        2,
                        ""));
        assertThrows(RlcdException.class, () -> AlpacaFarmCsv.toCsv(PreferencePairs.of("m", mixed), 0));
    }

    @Test
    void trlJsonlRoundTrips(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("trl.jsonl");
        PreferencePairs.of("t", rlcdRows()).writeTrl(f);
        List<String> lines = Files.readAllLines(f);
        assertEquals(3, lines.size(), "only ok rows");
        assertEquals(
                "{\"prompt\":\"Human: hi\\n\\nAssistant:\",\"chosen\":\" Hello, \\\"friend\\\"!\",\"rejected\":\" Go away.\"}",
                lines.get(0));
        List<PairRow> back = PreferencePairs.readTrl(f, "harmlessness", "rlcd").rows();
        assertEquals(
                List.of("Hello, \"friend\"!", "line1\nline2", "yes"),
                back.stream().map(PairRow::chosen).toList());
        assertEquals("Human: a,b?\n\nAssistant:", back.get(1).prompt());

        TrlJsonl.write(PreferencePairs.of("s", scoredRows()), f);
        assertEquals(
                " no",
                Json.string(Json.parseObject(Files.readAllLines(f).get(1)), "chosen"),
                "chosen = the preferred (P(B) > 0.5)");

        Files.writeString(f, "{\"prompt\": \"p\", \"chosen\": \" a\"}\n");
        RlcdException e = assertThrows(RlcdException.class, () -> TrlJsonl.read(f, "harmlessness", "rlcd"));
        assertEquals(f + ":1: field \"rejected\" is missing", e.getMessage());
    }

    @Test
    void pairsTableJsonAndTableRoundTrip() {
        List<PairRow> rows = new ArrayList<>(rlcdRows());
        rows.addAll(scoredRows());
        for (PairRow r : rows) assertEquals(r, PairsTable.fromJson(Json.parseObject(Json.write(PairsTable.toJson(r)))));
        assertEquals(rows, PairsTable.rows(PairsTable.toTable("t", rows)));
    }

    @Test
    void pythonFloatRepr() {
        String[][] cases = {
            {"0.1480471980316895", "0.1480471980316895"},
            {"1e-05", "0.00001"},
            {"0.0001", "0.0001"},
            {"1e+16", "1e16"},
            {"1234567890123456.0", "1234567890123456"},
            {"0.5", "0.5"},
            {"1.0", "1"},
            {"2.5e-07", "2.5e-7"},
            {"123.456", "123.456"},
            {"0.3333333333333333", String.valueOf(1.0 / 3)}
        };
        for (String[] c : cases) assertEquals(c[0], PyFloat.repr(Double.parseDouble(c[1])), c[1]);
        assertEquals("2e-323", PyFloat.repr(2e-323));
    }
}
