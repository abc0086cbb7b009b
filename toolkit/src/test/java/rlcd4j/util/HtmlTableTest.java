package rlcd4j.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class HtmlTableTest {
    static Table rows(int n) {
        return Table.create(
                "win rates",
                IntColumn.create("i", IntStream.range(0, n).toArray()),
                StringColumn.create(
                        "text", IntStream.range(0, n).mapToObj(i -> "t" + i).toArray(String[]::new)));
    }

    @Test
    void firstRowsForReportsWithTheFullSizeInTheCaption() {
        String html = HtmlTable.html(rows(10), HtmlTable.Limits.first(4, 80));
        assertTrue(html.contains("win rates \u00b7 10 rows \u00d7 2 columns"), html);
        assertTrue(html.contains(">t3<") && !html.contains(">t4<"), html);
        assertTrue(html.contains("<th>\u2026</th>"), "a gap row says rows were left out");
        assertFalse(HtmlTable.html(rows(4), HtmlTable.Limits.first(4, 80)).contains("\u2026"));
    }

    @Test
    void headAndTailForNotebooks() {
        String html = HtmlTable.html(rows(1000), HtmlTable.Limits.NOTEBOOK);
        assertTrue(html.contains(">t9<") && !html.contains(">t10<"), "head of 10");
        assertTrue(html.contains(">t995<") && html.contains(">t999<") && !html.contains(">t994<"), "tail of 5");
    }

    @Test
    void namesAndCellsAreEscapedAndCut() {
        Table t = Table.create("a<b", StringColumn.create("it's", "<b>\"x\"</b> & " + "y".repeat(200)));
        String html = HtmlTable.html(t, HtmlTable.Limits.first(5, 40));
        assertTrue(html.contains("a&lt;b") && html.contains("it&#39;s"), html);
        assertTrue(html.contains("&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; y"), html);
        assertFalse(html.contains("<b>"), html);
        String cell = HtmlTable.cell(t.column(0), 0, 40);
        assertEquals(40, cell.length());
        assertTrue(cell.endsWith("\u2026"));
    }

    @Test
    void doublesAreShortMissingValuesEmptyAndNewlinesFolded() {
        DoubleColumn c = DoubleColumn.create("loss", 2.0 / 3, 1e-9, 12.0);
        c.appendMissing();
        assertEquals("0.666667", HtmlTable.cell(c, 0, 80));
        assertEquals("1.00000e-09", HtmlTable.cell(c, 1, 80));
        assertEquals("12.0", HtmlTable.cell(c, 2, 80));
        assertEquals("", HtmlTable.cell(c, 3, 80));
        assertEquals("a b", HtmlTable.cell(StringColumn.create("s", "a\nb"), 0, 80));
    }
}
