package rlcd4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class PreferencePairsTest {
    /** FormatsTest's RLCD rows (ok, ok, dropped, ok) and an error row. */
    private static PreferencePairs simulated() {
        List<PairRow> rows = new ArrayList<>(FormatsTest.rlcdRows());
        rows.add(new PairRow(
                4,
                "harmlessness",
                "rlcd",
                "Human: long\n\nAssistant:",
                "",
                "",
                "",
                3,
                -1,
                "",
                "",
                "",
                "",
                Double.NaN,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                PairStatus.ERROR,
                0,
                "prompt too long"));
        return PreferencePairs.of("sim", rows);
    }

    @Test
    void keptLeavesOutDroppedAndErrorRows() {
        PreferencePairs all = simulated();
        assertEquals(5, all.size());
        assertEquals(1, all.count(PairStatus.DROPPED));
        assertEquals(1, all.count(PairStatus.ERROR));
        PreferencePairs kept = all.kept();
        assertEquals(List.of(0, 1, 3), kept.rows().stream().map(PairRow::id).toList());
        assertSame(kept, kept.kept(), "already all ok");
        assertEquals(List.of("Hello, \"friend\"!", "line1\nline2", "yes"), kept.chosen());
        assertArrayEquals(new double[] {1, 1, 1}, kept.pChosen());
        assertEquals("sim: 5 pairs (3 ok, 1 dropped, 1 errors)", all.toString());
    }

    @Test
    void theTableViewHasThePairsColumnsAndReadsBackTyped() {
        PreferencePairs all = simulated();
        Table t = all.table();
        assertEquals(PairsTable.COLUMNS, t.columnNames());
        assertEquals("dropped", t.stringColumn("status").get(2));
        assertEquals(all.rows(), PreferencePairs.fromTable(t).rows());
        // a plain table of pairs: all ok, hard labels unless p_chosen is given
        Table plain = Table.create(
                "plain",
                StringColumn.create("prompt", "p1", "p2"),
                StringColumn.create("chosen", "c1", "c2"),
                StringColumn.create("rejected", "r1", "r2"));
        PreferencePairs p = PreferencePairs.fromTable(plain);
        assertEquals(2, p.kept().size());
        assertArrayEquals(new double[] {1, 1}, p.pChosen());
        plain.addColumns(DoubleColumn.create("p_chosen", 0.75, 1.5));
        RlcdException e = assertThrows(RlcdException.class, () -> PreferencePairs.fromTable(plain));
        assertEquals("table plain: row 2: field \"p_chosen\" is 1.5; expected a probability in [0, 1]", e.getMessage());
    }

    @Test
    void readTellsTheFormatsApart(@TempDir Path dir) throws Exception {
        PreferencePairs all = simulated();
        Path jsonl = dir.resolve("pairs.jsonl");
        all.writeJsonl(jsonl);
        assertEquals(all.rows(), PreferencePairs.read(jsonl).rows(), "the simulator's pairs JSONL, dropped rows kept");
        assertTrue(PreferencePairs.isPairsJsonl(jsonl));

        Path trl = dir.resolve("trl.jsonl");
        all.writeTrl(trl);
        PreferencePairs fromTrl = PreferencePairs.read(trl);
        assertFalse(PreferencePairs.isPairsJsonl(trl));
        assertEquals(all.kept().chosen(), fromTrl.chosen(), "ok rows only, one leading space removed");
        assertEquals(all.kept().prompts(), fromTrl.prompts());

        Path soft = dir.resolve("soft.jsonl");
        Files.writeString(soft, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"p_chosen\": 0.75}\n");
        assertArrayEquals(new double[] {0.75}, PreferencePairs.read(soft).pChosen());

        Path alpaca = dir.resolve("alpaca.csv");
        all.writeAlpacaFarmCsv(alpaca, 0);
        PreferencePairs fromCsv = PreferencePairs.read(alpaca);
        assertEquals(3, fromCsv.size());
        assertEquals(List.of("Hello, \"friend\"!", "line1\nline2", "yes"), fromCsv.chosen());

        Path csv = dir.resolve("plain.csv");
        Files.writeString(csv, "prompt,chosen,rejected,p_chosen\np,\"a, b\",c,0.5\n");
        PreferencePairs plain = PreferencePairs.read(csv);
        assertEquals(List.of("a, b"), plain.chosen());
        assertArrayEquals(new double[] {0.5}, plain.pChosen());
    }

    @Test
    void badInputNamesTheFileTheLineAndTheField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("pairs.jsonl");
        Files.writeString(f, "{\"id\": 0, \"status\": \"ok\", \"prompt\": \"p\"}\n{\"id\": 1, \"status\": \"fine\"}\n");
        assertEquals(
                f + ":2: not a pairs-table row (field 'status' must be one of [planned, ok, dropped, error], "
                        + "got 'fine'); the log is corrupted here",
                message(f));
        Files.writeString(f, "{\"id\": 0, \"status\": \"ok\"}\n{\"id\": 1, \"p_chosen\": \"high\"}\n");
        assertEquals(
                f + ":2: not a pairs-table row (field 'p_chosen' must be a number); the log is corrupted here",
                message(f));

        Path trl = dir.resolve("trl.jsonl");
        Files.writeString(
                trl,
                "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n"
                        + "{\"prompt\": \"p\", \"chosen\": \"a\"}\n");
        assertEquals(trl + ":2: field \"rejected\" is missing", message(trl));
        Files.writeString(trl, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"p_chosen\": 2}\n");
        assertEquals(trl + ":1: field \"p_chosen\" is 2.0; expected a probability in [0, 1]", message(trl));

        Path csv = dir.resolve("x.csv");
        Files.writeString(csv, "prompt,chosen\np,a\n");
        assertTrue(message(csv).startsWith(csv + ":1: expected a column \"rejected\""), message(csv));
        Files.writeString(csv, "instruction,input,output_1,output_2,preference\np,,a,b,3\n");
        assertEquals(csv + ":2: field \"preference\" must be 1 or 2, got '3'", message(csv));

        assertEquals(dir.resolve("none.jsonl") + ": no such file", message(dir.resolve("none.jsonl")));
        Path txt = dir.resolve("pairs.txt");
        Files.writeString(txt, "x");
        assertEquals(txt + ": expected a .jsonl, .jsonl.gz or .csv file", message(txt));
    }

    private static String message(Path file) {
        return assertThrows(RlcdException.class, () -> PreferencePairs.read(file))
                .getMessage();
    }
}
