package rlcd4j.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.hub.HfHub;
import rlcd4j.sandbox.SandboxBaseModel;
import rlcd4j.sandbox.SandboxTask;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * {@code rlcd demo --model REPO_ID --prompts hh}: the same story on a model named by repo id and HH-RLHF prompts, both
 * read from a Hugging Face cache (offline, as a user who downloaded them once would have it). The "repo" holds the
 * sandbox base model's files and the cache's HH files are the shared test split, so this checks the plumbing (repo id
 * to folder, hh: prompts, the paper's splits, human-label agreement, local judge only, report), not a result.
 */
class DemoHhTest {
    @TempDir
    Path tmp;

    /** Puts {@code files} (name -> source) into the cache as a snapshot of {@code repoFolder} at branch main. */
    static void cache(Path repoFolder, String[][] files) throws IOException {
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path snap = repoFolder.resolve("snapshots").resolve(commit);
        for (String[] f : files) {
            Path link = snap.resolve(f[0]);
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, Path.of(f[1]).toAbsolutePath());
        }
        Files.createDirectories(repoFolder.resolve("refs"));
        Files.writeString(repoFolder.resolve("refs/main"), commit);
    }

    @Test
    void realModelStoryOnHhPromptsFromTheCache() throws IOException {
        Path hub = tmp.resolve("hub");
        String hh = Fixtures.hhHarmlessTest().toString();
        cache(
                hub.resolve("datasets--Anthropic--hh-rlhf"),
                new String[][] {{"harmless-base/train.jsonl.gz", hh}, {"harmless-base/test.jsonl.gz", hh}});
        try (Stream<Path> files = Files.list(SandboxBaseModel.folder())) {
            cache(
                    hub.resolve("models--rlcd4j--sandbox-base"),
                    files.map(f -> new String[] {f.getFileName().toString(), f.toString()})
                            .toArray(String[][]::new));
        }
        HfHub offline = new HfHub(hub, true);
        Demo.Options o = Demo.Options.defaults(Path.of("unused"), tmp.resolve("run"))
                .withSizes(6, 4, 1)
                .withModel("rlcd4j/sandbox-base", "hh")
                .withNewTokens(16);

        Demo.Result r = Demo.run(o, offline);

        assertNull(r.premise(), "no ground truth, no premise gap");
        Table pm = r.pmAgreement();
        assertEquals(2, pm.rowCount(), pm.print());
        assertEquals("preference models vs HH-RLHF human labels", pm.name());
        for (int i = 0; i < 2; i++) {
            assertEquals(100, pm.intColumn("pairs").get(i), "human pairs from dev rows 0-999: " + pm.print());
            double acc = pm.doubleColumn("accuracy").get(i),
                    ties = pm.doubleColumn("ties").get(i);
            // Each conversation is scored once (the paper's form), so chosen and rejected differ within the preference
            // model's window. Scoring "prompt + conversation" cut most long pairs to the same text: 19% ties (76ae8ea).
            assertTrue(ties <= 0.05, "pairs whose two sides scored the same: " + pm.print());
            assertTrue(acc + ties <= 1 && acc >= 0, pm.print());
        }
        Table c = r.comparisons();
        assertEquals(7, c.rowCount(), "5 models vs base, PPO-RLCD vs 3 baselines... " + c.print());
        assertFalse(c.stringColumn("judge").asList().contains("ground-truth"), c.print());
        assertEquals(
                java.util.List.of("model", "mean_words"),
                r.scores().columnNames(),
                "no ground-truth scores without a ground truth");
        assertTrue(Files.readString(r.report()).contains("on HH-RLHF with rlcd4j/sandbox-base"));
        // headline: no premise gap, two accuracies on human labels, seven win rates by the local judge
        assertEquals(9, r.headline().rowCount(), r.headline().print());
        assertEquals("pm-rlcd accuracy", r.headline().stringColumn("figure").get(0));
        assertEquals(
                pm.doubleColumn("accuracy").get(0),
                r.headline().doubleColumn("value").get(0));
        assertEquals(
                4,
                Table.read().csv(tmp.resolve("run/outputs-base.csv").toFile()).rowCount(),
                "4 held-out prompts decoded");

        // a rerun reuses every stage
        long before = Files.getLastModifiedTime(r.report()).toMillis();
        Demo.Result again = Demo.run(o, offline);
        assertEquals(c.rowCount(), again.comparisons().rowCount());
        for (int i = 0; i < c.rowCount(); i++) {
            assertEquals(
                    c.doubleColumn("win_rate").get(i),
                    again.comparisons().doubleColumn("win_rate").get(i),
                    1e-9);
        }
        assertTrue(Files.getLastModifiedTime(again.report()).toMillis() >= before);
    }

    @Test
    void hhHasNoOutlinesAndPromptsMustBeKnown() {
        Demo.Options o = Demo.Options.defaults(Path.of("m"), tmp).withTask(SandboxTask.OUTLINE);
        RlcdException e = assertThrows(RlcdException.class, () -> o.withModel("m", "hh"));
        assertTrue(e.getMessage().contains("outline task runs in the sandbox"), e.getMessage());
        e = assertThrows(RlcdException.class, () -> o.withModel("m", "wiki"));
        assertTrue(e.getMessage().contains("expected sandbox or hh"), e.getMessage());
    }
}
