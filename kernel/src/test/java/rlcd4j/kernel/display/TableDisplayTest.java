package rlcd4j.kernel.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class TableDisplayTest {
    static Table rows(int n) {
        return Table.create(
                "win rates",
                IntColumn.create("i", IntStream.range(0, n).toArray()),
                StringColumn.create(
                        "text", IntStream.range(0, n).mapToObj(i -> "t" + i).toArray(String[]::new)));
    }

    @Test
    void shortTablesAreShownWhole() {
        String html = TableDisplay.html(rows(20));
        assertTrue(html.contains("win rates \u00b7 20 rows \u00d7 2 columns"), html);
        assertTrue(html.contains(">t19<"));
        assertFalse(html.contains("\u2026"));
    }

    @Test
    void longTablesShowHeadAndTailWithRowCount() {
        String html = TableDisplay.html(rows(1000));
        assertTrue(html.contains("1,000 rows"), html);
        assertTrue(html.contains(">t9<") && !html.contains(">t10<"), "head of 10");
        assertTrue(html.contains(">t995<") && html.contains(">t999<") && !html.contains(">t994<"), "tail of 5");
        assertTrue(html.contains("<th>\u2026</th>"), "a gap row");
        String text = TableDisplay.text(rows(1000));
        assertEquals(1 + 2 + 10 + 1 + 5, text.split("\n").length, text);
    }

    @Test
    void wideCellsAreCutWithEllipsisAndEscaped() {
        Table t = Table.create("pairs", StringColumn.create("chosen", "<b>" + "x".repeat(200)));
        String html = TableDisplay.html(t);
        assertTrue(html.contains("&lt;b&gt;"), html);
        assertFalse(html.contains("<b>x"));
        assertTrue(html.contains("&gt;" + "x".repeat(76) + "\u2026<"), "cut at the notebook's 80 characters");
    }
}
