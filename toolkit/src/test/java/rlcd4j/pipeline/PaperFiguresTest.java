package rlcd4j.pipeline;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import rlcd4j.Fixtures;
import rlcd4j.sandbox.SandboxTask;
import tech.tablesaw.api.Table;

class PaperFiguresTest {
    /** Every figure is in the reference notes as written there, in the row its source names. */
    @Test
    void everyFigureIsTheReferencesOwn() throws IOException {
        Path notes = Fixtures.shared().resolve("notes/rlcd-reference.md");
        assumeTrue(Files.exists(notes), "the reference notes are not in this checkout's ../shared");
        String ref = Files.readString(notes);
        for (PaperFigures.Figure f : PaperFigures.ALL) {
            assertTrue(f.source().startsWith("rlcd-reference.md §"), f.toString());
            String fmt = f.unit().startsWith("rating") ? "%.2f" : "%.1f";
            String rlcd = String.format(Locale.ROOT, fmt, f.rlcd());
            String base = String.format(Locale.ROOT, fmt, f.baseline());
            if (f.comparison() == PaperFigures.Comparison.RLCD_VS_RLAIF) {
                boolean gpt4 = f.measure().equals("GPT-4");
                String row = f.size().equals("7B")
                        ? (gpt4 ? "| RLCD7B vs RLAIF7B | GPT-4 % (Table 3)" : "| RLCD7B vs RLAIF7B | human (Table 2)")
                        : (gpt4 ? "| RLCD30B vs RLAIF30B | GPT-4 %" : "| RLCD30B vs RLAIF30B | human");
                String line =
                        ref.lines().filter(l -> l.startsWith(row)).findFirst().orElseThrow();
                // columns: Harm | HHelp | Help | Qual
                String[] cells = line.split("\\|");
                int col = Map.of(SandboxTask.HARMLESS, 3, SandboxTask.HELPFUL, 5, SandboxTask.OUTLINE, 6)
                        .get(f.task());
                assertEquals(rlcd + " / " + base, cells[col].replace("*", "").strip(), f + " in " + line);
            } else {
                String row = f.task() == SandboxTask.HARMLESS ? "| harmlessness |" : "| helpfulness |";
                String table5 = ref.substring(ref.indexOf("Results, Table 5"));
                String line = table5.lines()
                        .filter(l -> l.strip().startsWith(row))
                        .findFirst()
                        .orElseThrow();
                String[] cells = line.split("\\|"); // RLAIF7B | RLCD7B | RLAIF30B | RLCD30B
                int rlaifCol = f.size().equals("7B") ? 2 : 4;
                assertTrue(cells[rlaifCol].strip().startsWith(base + " / "), f + " in " + line);
                assertTrue(cells[rlaifCol + 1].strip().startsWith(rlcd + " / "), f + " in " + line);
            }
        }
    }

    @Test
    void theComparisonsTheReferenceLacksSaySo() {
        for (SandboxTask t : SandboxTask.values()) {
            assertNotNull(PaperFigures.missing(PaperFigures.Comparison.RLCD_VS_CONTEXT_DISTILLATION, t));
            assertNull(PaperFigures.missing(PaperFigures.Comparison.RLCD_VS_RLAIF, t));
        }
        assertNull(PaperFigures.missing(PaperFigures.Comparison.PREFERENCE_MODEL_AGREEMENT, SandboxTask.HELPFUL));
        assertNotNull(PaperFigures.missing(PaperFigures.Comparison.PREFERENCE_MODEL_AGREEMENT, SandboxTask.OUTLINE));
    }

    @Test
    void besideThePaperPutsOursNextToEachFigure() {
        Table h = Headline.of(null, HeadlineTest.pm(), HeadlineTest.comparisons(), "ground-truth");
        Table t = PaperFigures.beside(SandboxTask.HARMLESS, "ground-truth", Headline.describer(h));
        // 4 RLCD-vs-RLAIF figures, 1 missing context-distillation row, 2 Table 5 figures
        assertEquals(7, t.rowCount(), t.print());
        assertEquals(
                "RLCD7B 84.8 / RLAIF7B 15.2 (GPT-4: % of comparisons won)",
                t.stringColumn("paper").get(1));
        assertEquals(
                "win rate of ppo-rlcd over ppo-rlaif (judge: ground-truth): "
                        + "69.0% (95% CI 61.0% to 77.0%, n = 100)",
                t.stringColumn("this demo").get(1));
        assertEquals("not measured", t.stringColumn("this demo").get(4), "no context-distillation win rate given");
        assertTrue(t.stringColumn("paper").get(4).startsWith("not in the reference"), t.print());
        assertTrue(t.stringColumn("this demo").get(5).startsWith("pm-rlcd 75.0% "), t.print());
    }
}
