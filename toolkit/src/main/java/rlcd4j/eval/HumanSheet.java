package rlcd4j.eval;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.ToIntFunction;
import rlcd4j.util.Html;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Human evaluation on the paper's 1–8 scale.
 *
 * <ol>
 *   <li>{@link #write} makes a self-contained HTML sheet (inline CSS and JavaScript, no network) that shows each pair
 *       with the two responses in a random left/right order and in a random item order, and a separate JSON key with
 *       the mapping and the model names (the sheet itself names no model). The rater clicks 1 (left much better) ... 8
 *       (right much better); answers are kept in the browser's local storage and saved with "Download answers" as JSON.</li>
 *   <li>{@link #importScores} maps the answers back with the key and the paper's normalisation: the right-hand response
 *       gets s, the left-hand one 9 − s (higher is better, each pair sums to 9). The result is the same win-rate table
 *       as for the judges (A wins a pair when its score is above 4.5; there are no ties on this scale) plus the mean
 *       normalised score of each model, the paper's headline human numbers.</li>
 * </ol>
 */
public final class HumanSheet {
    /**
     * Settings of a {@link HumanSheet}.
     *
     * @param title    the page title ("Which response is better?")
     * @param question the question above each pair, e.g. "Which response is more helpful?" ("Which response is
     *                 better?")
     * @param sample   rate a seeded random subset of n pairs (the paper rated 200 per comparison); default all
     * @param seed     seed of the item order, the subset and the left/right order (0)
     * @param tokens   token counter for the lengths stored in the key, for the length-controlled win rate
     *                 (whitespace words)
     */
    public record Config(String title, String question, int sample, long seed, ToIntFunction<String> tokens) {
        public Config {
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(question, "question");
            Objects.requireNonNull(tokens, "tokens");
        }

        public static Config defaults() {
            return new Config(
                    "Which response is better?",
                    "Which response is better?",
                    Integer.MAX_VALUE,
                    0,
                    OutputStats.WHITESPACE);
        }

        public Config withTitle(String v) {
            return new Config(v, question, sample, seed, tokens);
        }

        public Config withQuestion(String v) {
            return new Config(title, v, sample, seed, tokens);
        }

        public Config withSample(int v) {
            return new Config(title, question, v, seed, tokens);
        }

        public Config withSeed(long v) {
            return new Config(title, question, sample, v, tokens);
        }

        public Config withTokens(ToIntFunction<String> v) {
            return new Config(title, question, sample, seed, v);
        }
    }

    private final Table a, b;
    private final String title;
    private final String question;
    private final int sample;
    private final long seed;
    private final ToIntFunction<String> tokens;

    private HumanSheet(Table a, Table b, Config config) {
        Outputs.requireColumns(a, "outputs A");
        Outputs.requireColumns(b, "outputs B");
        this.a = a;
        this.b = b;
        this.title = config.title();
        this.question = config.question();
        this.sample = config.sample();
        this.seed = config.seed();
        this.tokens = config.tokens();
    }

    /** A sheet comparing outputs table A with outputs table B, with the default settings. */
    public static HumanSheet of(Table outputsA, Table outputsB) {
        return of(outputsA, outputsB, Config.defaults());
    }

    /** A sheet comparing outputs table A with outputs table B, with {@code config}'s settings. */
    public static HumanSheet of(Table outputsA, Table outputsB, Config config) {
        return new HumanSheet(outputsA, outputsB, Objects.requireNonNull(config, "config"));
    }

    /** Writes the sheet for raters and the key to keep apart; returns the sheet id that ties them together. */
    public String write(Path htmlFile, Path keyFile) {
        String modelA = a.stringColumn(Outputs.MODEL).get(0),
                modelB = b.stringColumn(Outputs.MODEL).get(0);
        Map<String, Integer> rowOfB = new HashMap<>();
        for (int i = 0; i < b.rowCount(); i++)
            rowOfB.put(b.stringColumn(Outputs.ID).get(i), i);
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < a.rowCount(); i++) {
            String id = a.stringColumn(Outputs.ID).get(i);
            if (!rowOfB.containsKey(id))
                throw new RlcdException("human sheet: id '" + id + "' of A has no output in B");
            rows.add(i);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = rows.size() - 1; i > 0; i--) { // Fisher–Yates: random item order (and subset)
            int j = rng.nextInt(i + 1);
            Integer t = rows.get(i);
            rows.set(i, rows.get(j));
            rows.set(j, t);
        }
        if (rows.size() > sample) rows = new ArrayList<>(rows.subList(0, sample));

        StringBuilder ids = new StringBuilder(modelA)
                .append('\0')
                .append(modelB)
                .append('\0')
                .append(seed);
        JsonArray keyItems = new JsonArray();
        StringBuilder items = new StringBuilder();
        for (int k = 0; k < rows.size(); k++) {
            int i = rows.get(k), j = rowOfB.get(a.stringColumn(Outputs.ID).get(i));
            String id = a.stringColumn(Outputs.ID).get(i);
            String outA = a.stringColumn(Outputs.OUTPUT).get(i),
                    outB = b.stringColumn(Outputs.OUTPUT).get(j);
            boolean aLeft = rng.nextBoolean();
            ids.append('\0').append(id).append(aLeft ? 'A' : 'B');
            JsonObject ki = new JsonObject();
            ki.addProperty("item", k + 1);
            ki.addProperty("id", id);
            ki.addProperty("left", aLeft ? "A" : "B");
            ki.addProperty("len_a", tokens.applyAsInt(outA));
            ki.addProperty("len_b", tokens.applyAsInt(outB));
            keyItems.add(ki);
            items.append(item(
                    k + 1,
                    rows.size(),
                    a.stringColumn(Outputs.PROMPT).get(i),
                    aLeft ? outA : outB,
                    aLeft ? outB : outA));
        }
        String sheetId = VerdictCache.key("human-sheet", "", ids.toString()).substring(0, 16);
        JsonObject key = new JsonObject();
        key.addProperty("sheet_id", sheetId);
        key.addProperty("model_a", modelA);
        key.addProperty("model_b", modelB);
        key.addProperty("question", question);
        key.addProperty("scale", "1 = left much better ... 8 = right much better; normalised: right = s, left = 9 - s");
        key.add("items", keyItems);
        String html = TEMPLATE.replace("%TITLE%", Html.escape(title))
                .replace("%QUESTION%", Html.escape(question))
                .replace("%SHEET%", sheetId)
                .replace("%COUNT%", Integer.toString(rows.size()))
                .replace("%ITEMS%", items.toString());
        try {
            for (Path f : List.of(htmlFile, keyFile))
                if (f.toAbsolutePath().getParent() != null)
                    Files.createDirectories(f.toAbsolutePath().getParent());
            Files.writeString(htmlFile, html, StandardCharsets.UTF_8);
            Files.writeString(keyFile, Json.PRETTY.toJson(key) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(
                    "human sheet: cannot write " + htmlFile + " / " + keyFile + " (" + e.getMessage() + ")", e);
        }
        return sheetId;
    }

    /** Per-pair normalised scores and the win-rate summary. */
    public record Result(Table pairs, Table summary) {}

    /** Reads a rater's answers file (downloaded from the sheet) with the sheet's key; see the class comment. */
    public static Result importScores(Path answersFile, Path keyFile) {
        return importScores(answersFile, keyFile, WinRate.RESAMPLES, WinRate.SEED);
    }

    public static Result importScores(Path answersFile, Path keyFile, int resamples, long seed) {
        JsonObject key = readJson(keyFile, "sheet key");
        JsonObject ans = readJson(answersFile, "answers");
        String sheetId = field(key, "sheet_id", keyFile).getAsString();
        String ansSheet = field(ans, "sheet_id", answersFile).getAsString();
        if (!sheetId.equals(ansSheet))
            throw new RlcdException(answersFile + ": answers are for sheet " + ansSheet + " but " + keyFile
                    + " is the key of sheet " + sheetId + "; expected the key written with that sheet");
        JsonObject scores = field(ans, "scores", answersFile).getAsJsonObject();
        String rater = ans.has("rater") && !ans.get("rater").isJsonNull()
                ? ans.get("rater").getAsString()
                : "";
        String modelA = field(key, "model_a", keyFile).getAsString(),
                modelB = field(key, "model_b", keyFile).getAsString();
        Table pairs = Table.create(
                "human " + modelA + " vs " + modelB,
                IntColumn.create("item"),
                StringColumn.create("id"),
                StringColumn.create("left"),
                IntColumn.create("raw"),
                DoubleColumn.create("score_a"),
                DoubleColumn.create("score_b"),
                IntColumn.create("len_a"),
                IntColumn.create("len_b"),
                StringColumn.create("rater"));
        int unanswered = 0;
        JsonArray items = field(key, "items", keyFile).getAsJsonArray();
        java.util.Set<String> known = new java.util.HashSet<>();
        for (JsonElement e : items) {
            JsonObject it = e.getAsJsonObject();
            String item = it.get("item").getAsString();
            known.add(item);
            JsonElement s = scores.get(item);
            if (s == null || s.isJsonNull()) {
                unanswered++;
                continue;
            }
            int raw;
            try {
                raw = s.getAsInt();
                if (raw < 1 || raw > 8 || s.getAsDouble() != raw) throw new NumberFormatException();
            } catch (RuntimeException ex) {
                throw new RlcdException(
                        answersFile + ": item " + item + " has score " + s + "; expected an integer from 1 to 8");
            }
            boolean aLeft = it.get("left").getAsString().equals("A");
            double right = raw, left = 9 - raw; // the paper's normalisation: higher is better, the pair sums to 9
            pairs.intColumn("item").append(Integer.parseInt(item));
            pairs.stringColumn("id").append(it.get("id").getAsString());
            pairs.stringColumn("left").append(aLeft ? "A" : "B");
            pairs.intColumn("raw").append(raw);
            pairs.doubleColumn("score_a").append(aLeft ? left : right);
            pairs.doubleColumn("score_b").append(aLeft ? right : left);
            pairs.intColumn("len_a").append(it.get("len_a").getAsInt());
            pairs.intColumn("len_b").append(it.get("len_b").getAsInt());
            pairs.stringColumn("rater").append(rater);
        }
        for (String item : scores.keySet())
            if (!known.contains(item))
                throw new RlcdException(answersFile + ": item '" + item + "' is not in the key " + keyFile);
        if (pairs.rowCount() == 0) throw new RlcdException(answersFile + ": no item has a score yet");
        double[] wins = pairs.doubleColumn("score_a").asDoubleArray();
        for (int i = 0; i < wins.length; i++) wins[i] = wins[i] > 4.5 ? 1 : 0;
        Table summary = WinRate.summary(
                modelA,
                modelB,
                wins,
                pairs.intColumn("len_a").asDoubleArray(),
                pairs.intColumn("len_b").asDoubleArray(),
                resamples,
                seed);
        summary.addColumns(
                StringColumn.create("judge", "human" + (rater.isBlank() ? "" : ":" + rater)),
                DoubleColumn.create(
                        "mean_score_a", pairs.doubleColumn("score_a").mean()),
                DoubleColumn.create(
                        "mean_score_b", pairs.doubleColumn("score_b").mean()),
                IntColumn.create("unanswered", new int[] {unanswered}));
        summary.setName("human " + modelA + " vs " + modelB);
        return new Result(pairs, summary);
    }

    private static JsonObject readJson(Path f, String what) {
        try {
            return JsonParser.parseString(Files.readString(f, StandardCharsets.UTF_8))
                    .getAsJsonObject();
        } catch (IOException e) {
            throw new RlcdException(f + ": cannot read the " + what + " (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            throw new RlcdException(f + ": the " + what + " is not a JSON object (" + e.getMessage() + ")", e);
        }
    }

    private static JsonElement field(JsonObject o, String name, Path f) {
        JsonElement e = o.get(name);
        if (e == null || e.isJsonNull()) throw new RlcdException(f + ": missing field '" + name + "'");
        return e;
    }

    private static String item(int k, int total, String prompt, String left, String right) {
        StringBuilder sb = new StringBuilder();
        sb.append("<section class=\"item\" id=\"item-")
                .append(k)
                .append("\" data-item=\"")
                .append(k)
                .append("\">\n");
        sb.append("<h2>Item ").append(k).append(" of ").append(total).append("</h2>\n");
        sb.append("<div class=\"conv\">").append(Html.escape(prompt.strip())).append("</div>\n");
        sb.append("<div class=\"pair\"><div class=\"resp\"><h3>Left</h3><div class=\"text left\">")
                .append(Html.escape(left))
                .append("</div></div><div class=\"resp\"><h3>Right</h3><div class=\"text right\">")
                .append(Html.escape(right))
                .append("</div></div></div>\n");
        sb.append("<div class=\"scale\"><span class=\"end\">Left much better</span>");
        for (int s = 1; s <= 8; s++)
            sb.append("<label><input type=\"radio\" name=\"s")
                    .append(k)
                    .append("\" value=\"")
                    .append(s)
                    .append("\">")
                    .append(s)
                    .append("</label>");
        sb.append("<span class=\"end\">Right much better</span></div>\n</section>\n");
        return sb.toString();
    }

    private static final String TEMPLATE = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>%TITLE%</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:1em;background:#fafafa;color:#222}
            .item{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1em;margin:1.2em 0}
            .item.done{border-color:#6a6}
            .conv,.text{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.9em}
            .conv{background:#f3f3f3;padding:.6em;border-radius:4px;max-height:20em;overflow:auto}
            .pair{display:flex;gap:1em;margin:.8em 0}.resp{flex:1;border:1px solid #ccc;border-radius:4px;padding:.6em}
            .resp h3{margin:.1em 0 .4em;font-size:1em}
            .scale{display:flex;gap:.8em;align-items:center;flex-wrap:wrap}.scale .end{font-size:.85em;color:#555}
            #bar{position:sticky;top:0;background:#fafafa;padding:.5em 0;border-bottom:1px solid #ddd;z-index:1}
            </style></head><body>
            <div id="bar"><strong>%TITLE%</strong> &middot; sheet <code>%SHEET%</code> &middot;
            rater <input id="rater" size="14"> &middot; <span id="count">0</span> of %COUNT% answered
            <button id="download">Download answers</button></div>
            <p>%QUESTION% For each item, read the conversation and the two possible next assistant responses, then choose
            1 (the left response is much better) to 8 (the right response is much better); 4 and 5 mean only slightly better.
            Your answers are kept in this browser until you download them; send the downloaded file back.</p>
            %ITEMS%
            <script>
            (function () {
              var SHEET = "%SHEET%", TOTAL = %COUNT%, store = "rlcd4j-sheet-" + SHEET;
              var saved = {};
              try { saved = JSON.parse(localStorage.getItem(store) || "{}"); } catch (e) { saved = {}; }
              var scores = saved.scores || {};
              var rater = document.getElementById("rater");
              rater.value = saved.rater || "";
              function persist() {
                try { localStorage.setItem(store, JSON.stringify({rater: rater.value, scores: scores})); } catch (e) {}
                var n = 0;
                document.querySelectorAll(".item").forEach(function (sec) {
                  var done = scores.hasOwnProperty(sec.dataset.item);
                  sec.classList.toggle("done", done);
                  if (done) n++;
                });
                document.getElementById("count").textContent = n;
              }
              document.querySelectorAll("input[type=radio]").forEach(function (r) {
                var item = r.name.substring(1);
                if (String(scores[item]) === r.value) r.checked = true;
                r.addEventListener("change", function () { scores[item] = parseInt(r.value, 10); persist(); });
              });
              rater.addEventListener("input", persist);
              document.getElementById("download").addEventListener("click", function () {
                var blob = new Blob([JSON.stringify({sheet_id: SHEET, rater: rater.value, total: TOTAL, scores: scores}, null, 1)],
                                    {type: "application/json"});
                var a = document.createElement("a");
                a.href = URL.createObjectURL(blob);
                a.download = "answers-" + SHEET + (rater.value ? "-" + rater.value.replace(/[^A-Za-z0-9_-]/g, "_") : "") + ".json";
                document.body.appendChild(a); a.click(); a.remove();
              });
              persist();
            })();
            </script>
            </body></html>
            """;
}
