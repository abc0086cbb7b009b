package rlcd4j.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** The report's numbers are rounded for reading: percentages with one decimal, scores with three. */
class HtmlReportTest {
    @TempDir
    Path tmp;

    @Test
    void percentagesHaveOneDecimalAndScoresThree() {
        Table t = Table.create(
                "win rates",
                StringColumn.create("model_a", "ppo-rlcd", "base"),
                IntColumn.create("ties", 38, 74),
                DoubleColumn.create("win_rate", 0.6810874541226022, 0.47),
                DoubleColumn.create("ci_low", 0.6, Double.NaN),
                DoubleColumn.create("ground_truth_score", 0.48250000000000004, 18.2));
        Table r = HtmlReport.readable(t);
        assertEquals("ppo-rlcd", r.stringColumn("model_a").get(0));
        assertEquals(38, r.intColumn("ties").get(0), "an integer column is a count, shown as it is");
        assertEquals("68.1%", r.stringColumn("win_rate").get(0));
        assertEquals("47.0%", r.stringColumn("win_rate").get(1));
        assertEquals("60.0%", r.stringColumn("ci_low").get(0));
        assertEquals("", r.stringColumn("ci_low").get(1), "NaN is shown empty");
        assertEquals("0.483", r.stringColumn("ground_truth_score").get(0));
        assertEquals("18.200", r.stringColumn("ground_truth_score").get(1));

        Table pm = Table.create(
                "pm",
                DoubleColumn.create("accuracy", 0.7358490566037735),
                DoubleColumn.create("ties", 0.01),
                DoubleColumn.create("margin", -0.0891234));
        Table p = HtmlReport.readable(pm);
        assertEquals("73.6%", p.stringColumn("accuracy").get(0));
        assertEquals("1.0%", p.stringColumn("ties").get(0), "a ties column of fractions is a rate");
        assertEquals("-0.089", p.stringColumn("margin").get(0));
    }

    @Test
    void theWrittenReportShowsRoundedNumbers() throws IOException {
        Table t = Table.create(
                "scores",
                DoubleColumn.create("ground_truth_score", 0.48250000000000004),
                DoubleColumn.create("win_rate", 0.6810874541226022));
        Path file = new HtmlReport("r").heading("A").table(t, 5, 80).write(tmp.resolve("report.html"));
        String html = Files.readString(file);
        assertTrue(html.contains(">0.483<"), html);
        assertTrue(html.contains(">68.1%<"), html);
        assertFalse(html.contains("0.4825"), html);
        assertFalse(html.contains("0.681087"), html);
    }
}
