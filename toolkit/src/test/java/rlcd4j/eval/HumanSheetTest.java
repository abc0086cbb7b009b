package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

class HumanSheetTest {
    private static Table outputs(String model, List<String> outs) {
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < outs.size(); i++) prompts.add("Human: question " + i + " <b>&</b>\n\nAssistant:");
        return Outputs.of(model, null, prompts, outs);
    }

    /** A rater who strongly prefers the response containing GOOD; answers as the sheet's download button writes them. */
    private static JsonObject rate(String html, String sheetId) {
        Matcher m = Pattern.compile(
                        "data-item=\"(\\d+)\">.*?<div class=\"text left\">(.*?)</div>.*?<div class=\"text right\">(.*?)</div>",
                        Pattern.DOTALL)
                .matcher(html);
        JsonObject scores = new JsonObject();
        while (m.find())
            scores.addProperty(
                    m.group(1), m.group(2).contains("GOOD") ? 1 : m.group(3).contains("GOOD") ? 8 : 4);
        JsonObject o = new JsonObject();
        o.addProperty("sheet_id", sheetId);
        o.addProperty("rater", "r1");
        o.add("scores", scores);
        return o;
    }

    @Test
    void roundTripMapsRandomisedSidesBackToModels(@TempDir Path dir) throws Exception {
        List<String> as = new ArrayList<>(), bs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            as.add(i < 30 ? "GOOD answer " + i + " <script>alert(1)</script>" : "weak " + i);
            bs.add(i < 30 ? "weak " + i : "GOOD other " + i);
        }
        Path html = dir.resolve("sheet.html"), key = dir.resolve("key.json"), answers = dir.resolve("answers.json");
        String id = HumanSheet.of(
                        outputs("rlcd-secret-name", as),
                        outputs("rlaif-secret-name", bs),
                        HumanSheet.Config.defaults()
                                .withQuestion("Which is more helpful?")
                                .withSeed(3))
                .write(html, key);
        String page = Files.readString(html);
        assertFalse(page.contains("secret-name"), "the sheet must not name the models");
        assertFalse(page.contains("<script>alert"), "texts must be escaped");
        assertFalse(
                Pattern.compile("(src|href)\\s*=\\s*\"?https?:").matcher(page).find(), "no external resources");
        assertFalse(page.contains("<link"));
        assertTrue(page.contains("Which is more helpful?"));
        assertEquals(
                40, Pattern.compile("class=\"item\"").matcher(page).results().count());
        String keyText = Files.readString(key);
        long aLeft =
                Pattern.compile("\"left\": \"A\"").matcher(keyText).results().count();
        assertTrue(aLeft > 8 && aLeft < 32, "sides should be randomised, A left " + aLeft + " times");

        Files.writeString(answers, rate(page, id).toString());
        HumanSheet.Result r = HumanSheet.importScores(answers, key, 500, 0);
        Table s = r.summary();
        // 30 pairs: A = 8, B = 1; 10 pairs: A = 1, B = 8.
        assertEquals((30 * 8 + 10 * 1) / 40.0, s.doubleColumn("mean_score_a").get(0), 1e-12);
        assertEquals((30 * 1 + 10 * 8) / 40.0, s.doubleColumn("mean_score_b").get(0), 1e-12);
        assertEquals(0.75, s.doubleColumn("win_rate").get(0), 1e-12);
        assertEquals("rlcd-secret-name", s.stringColumn("model_a").get(0));
        assertEquals(0, s.intColumn("unanswered").get(0));
        for (int i = 0; i < r.pairs().rowCount(); i++)
            assertEquals(
                    9.0,
                    r.pairs().doubleColumn("score_a").get(i)
                            + r.pairs().doubleColumn("score_b").get(i),
                    1e-12);
    }

    @Test
    void sampleSubsetAndBadAnswersAreReported(@TempDir Path dir) throws Exception {
        List<String> as = new ArrayList<>(), bs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            as.add("a" + i);
            bs.add("b" + i);
        }
        Path html = dir.resolve("s.html"), key = dir.resolve("k.json"), answers = dir.resolve("a.json");
        String id = HumanSheet.of(
                        outputs("A", as),
                        outputs("B", bs),
                        HumanSheet.Config.defaults().withSample(4))
                .write(html, key);
        assertEquals(
                4,
                Pattern.compile("class=\"item\"")
                        .matcher(Files.readString(html))
                        .results()
                        .count());

        Files.writeString(answers, "{\"sheet_id\":\"" + id + "\",\"scores\":{\"1\":2,\"3\":7}}");
        HumanSheet.Result r = HumanSheet.importScores(answers, key, 100, 0);
        assertEquals(2, r.pairs().rowCount());
        assertEquals(2, r.summary().intColumn("unanswered").get(0));

        Files.writeString(answers, "{\"sheet_id\":\"" + id + "\",\"scores\":{\"1\":9}}");
        assertTrue(assertThrows(RlcdException.class, () -> HumanSheet.importScores(answers, key))
                .getMessage()
                .contains("from 1 to 8"));
        Files.writeString(answers, "{\"sheet_id\":\"other\",\"scores\":{\"1\":2}}");
        assertTrue(assertThrows(RlcdException.class, () -> HumanSheet.importScores(answers, key))
                .getMessage()
                .contains("sheet other"));
        Files.writeString(answers, "{\"sheet_id\":\"" + id + "\",\"scores\":{\"9\":2}}");
        assertTrue(assertThrows(RlcdException.class, () -> HumanSheet.importScores(answers, key))
                .getMessage()
                .contains("item '9'"));
    }
}
