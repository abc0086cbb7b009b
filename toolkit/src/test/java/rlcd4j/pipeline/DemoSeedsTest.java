package rlcd4j.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.hub.HfHub;
import rlcd4j.sandbox.SandboxBaseModel;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * {@code rlcd demo --seeds 2} on the sandbox at the smallest sizes (6 simulated prompts, 4 held out, 1 PPO step, 48
 * tokens: the base model's refusals run to about 40 tokens, and a sample cut before its next {@code Human} turn fails
 * the paper's post-processing): a plumbing check, not a result. A run stopped after its first seed continues with the second; the mean and
 * spread equal those of the seeds' own figures; each seed's report opens with the headline, then the paper, then the
 * raw tables, with every number rounded.
 */
class DemoSeedsTest {
    @TempDir
    Path tmp;

    @Test
    void twoSeedsResumeAndAggregate() throws IOException {
        HfHub offline = new HfHub(tmp.resolve("hub"), true);
        Path out = tmp.resolve("run");
        Demo.Options o = Demo.Options.defaults(SandboxBaseModel.folder(), out)
                .withSizes(6, 4, 1)
                .withNewTokens(48);

        // a run stopped after its first seed: seed 0 done, seed 1 not started
        DemoSeeds.run(o, 1, offline);
        String seed0Done = Files.readString(out.resolve("seed-0/comparisons.done"));
        DemoSeeds.Result r = DemoSeeds.run(o, 2, offline);
        assertEquals(seed0Done, Files.readString(out.resolve("seed-0/comparisons.done")), "seed 0 is reused");
        assertTrue(Files.readString(out.resolve("seed-0/settings.txt")).contains("seed=0]"));
        assertTrue(Files.readString(out.resolve("seed-1/settings.txt")).contains("seed=1]"));
        assertEquals(2, r.runs().size());

        // every figure: the premise gap, two accuracies, seven ground-truth win rates
        Table h0 = r.runs().get(0).headline(), h1 = r.runs().get(1).headline();
        assertEquals(10, h0.rowCount(), h0.print());
        assertEquals(
                h0.stringColumn("figure").asList(), h1.stringColumn("figure").asList());
        assertEquals(20, r.perSeed().rowCount());
        Table s = r.summary();
        assertEquals(
                h0.stringColumn("figure").asList(), s.stringColumn("figure").asList());
        for (int i = 0; i < s.rowCount(); i++) {
            double a = h0.doubleColumn("value").get(i),
                    b = h1.doubleColumn("value").get(i);
            String what = s.stringColumn("figure").get(i) + ": " + a + ", " + b + "\n" + s.print();
            assertEquals(2, s.intColumn("seeds").get(i), what);
            assertEquals((a + b) / 2, s.doubleColumn("mean").get(i), 1e-12, what);
            assertEquals(Math.abs(a - b) / Math.sqrt(2), s.doubleColumn("sd").get(i), 1e-12, "sample sd: " + what);
            assertEquals(Math.min(a, b), s.doubleColumn("min").get(i), 0, what);
            assertEquals(Math.max(a, b), s.doubleColumn("max").get(i), 0, what);
        }
        Table csv = Table.read().csv(out.resolve("seeds-summary.csv").toFile());
        for (int i = 0; i < s.rowCount(); i++) {
            assertEquals(
                    s.doubleColumn("mean").get(i), ((Number) csv.column("mean").get(i)).doubleValue(), 1e-12);
        }
        assertEquals(20, Table.read().csv(out.resolve("seeds.csv").toFile()).rowCount());

        for (Path report : List.of(r.runs().get(0).report(), r.report())) {
            String html = Files.readString(report).replaceAll("<img[^>]*>", "");
            int head = html.indexOf("<h2>" + Demo.HEADLINE),
                    paper = html.indexOf("<h2>" + Demo.BESIDE_THE_PAPER),
                    raw = html.indexOf("<h2>" + Demo.RAW_TABLES);
            assertTrue(
                    head >= 0 && head < paper && paper < raw,
                    report + ": sections at " + head + ", " + paper + ", " + raw);
            assertEquals(List.of(), longDecimals(html), report + ": numbers rounded for reading");
        }
        String seedReport = Files.readString(r.runs().get(0).report());
        String headline =
                seedReport.substring(seedReport.indexOf(Demo.HEADLINE), seedReport.indexOf(Demo.BESIDE_THE_PAPER));
        assertTrue(headline.contains("The premise: on the ground truth, outputs from p+ score "), headline);
        assertTrue(headline.contains("<img"), "the win-rate chart is in the headline");
    }

    /** Numbers written with more than three decimals, e.g. 0.48250000000000004. */
    private static List<String> longDecimals(String html) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile("\\d\\.\\d{4,}").matcher(html);
        while (m.find()) found.add(m.group());
        return found;
    }

    @Test
    void seedsMustBePositive() {
        Demo.Options o = Demo.Options.defaults(SandboxBaseModel.folder(), tmp.resolve("run"));
        RlcdException e = assertThrows(RlcdException.class, () -> DemoSeeds.run(o, 0, new HfHub(tmp, true)));
        assertEquals("--seeds 0: expected at least 1", e.getMessage());
    }
}
