package rlcd4j.plot;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.CategoryChart;
import rlcd4j.eval.Outputs;
import rlcd4j.eval.WinRate;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

class PlotsTest {
    private static Table summary(String a, String b, int wins, int n) {
        double[] s = new double[n];
        for (int i = 0; i < wins; i++) s[i] = 1;
        return WinRate.summary(a, b, s, null, null, 500, 0);
    }

    @Test
    void winRatesWithIntervalsAsPngAndSvg(@TempDir Path dir) throws Exception {
        CategoryChart c = Plots.winRates(summary("rlcd", "rlaif", 85, 100), summary("rlcd", "context-dist", 60, 100));
        assertEquals(2, c.getSeriesMap().size()); // bars + the interval whiskers
        Path png = Plots.save(c, dir.resolve("win.png"));
        if (System.getProperty("rlcd4j.plotDump") != null)
            Files.copy(
                    png,
                    Path.of(System.getProperty("rlcd4j.plotDump")),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(c.getWidth(), img.getWidth());
        assertEquals(c.getHeight(), img.getHeight());
        Path svg = Plots.save(c, dir.resolve("sub/win.svg"));
        String text = Files.readString(svg);
        assertTrue(text.contains("<svg") && text.contains("</svg>"), text.substring(0, Math.min(200, text.length())));
        assertTrue(text.contains("<path"), "VectorGraphics2D draws shapes (and text) as paths");
        assertThrows(RlcdException.class, () -> Plots.save(c, dir.resolve("win.gif")));
    }

    @Test
    void lengthPlotsAndTrainingCurves(@TempDir Path dir) throws Exception {
        Table outs = Outputs.of("rlcd", null, List.of("p", "p", "p"), List.of("a b c d", "a b", "a b c d e f"))
                .append(Outputs.of("rlaif", null, List.of("p", "p"), List.of("a", "a b")));
        assertNotNull(ImageIO.read(
                Plots.save(Plots.lengths(outs), dir.resolve("box.png")).toFile()));
        assertEquals(
                2,
                Plots.lengthHistogram(outs, s -> s.split(" ").length, 4)
                        .getSeriesMap()
                        .size());

        Table log = Table.create(
                "ppo",
                IntColumn.create("step", 1, 2, 3),
                DoubleColumn.create("reward", 0.1, 0.3, Double.NaN),
                DoubleColumn.create("kl", 0.0, 0.01, 0.02));
        var chart = Plots.trainingCurves(log, "reward", "kl");
        assertEquals(2, chart.getSeriesMap().size());
        assertEquals(2, chart.getSeriesMap().get("reward").getXData().length); // the NaN step is skipped
        assertTrue(Files.size(Plots.save(chart, dir.resolve("curves.svg"))) > 500);
        RlcdException e = assertThrows(RlcdException.class, () -> Plots.trainingCurves(log, "loss"));
        assertTrue(e.getMessage().contains("no column 'loss'"), e.getMessage());
    }
}
