package rlcd4j.sandbox;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import rlcd4j.data.DataFiles;
import rlcd4j.data.JsonlLines;
import rlcd4j.progress.Progress;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * Writes the sandbox's pretraining corpus and its held-out evaluation prompts:
 * <ul>
 *   <li>{@code pretrain.jsonl}: one dialogue per line, {@code {"id","task","text"}}; {@code text} is a whole
 *       transcript ending in {@code "\n\nHuman:"} (the trainer adds BOS and EOS around it);</li>
 *   <li>{@code eval-harmless.jsonl}, {@code eval-helpful.jsonl}, {@code eval-outline.jsonl}: {@code {"id","task","prompt"}},
 *       distinct prompts ending in {@code "\n\nAssistant:"} whose keys never occur in pretrain.jsonl;</li>
 *   <li>{@code corpus.json}: how it was made (seed, counts, mix) and what it holds.</li>
 * </ul>
 */
public record SandboxCorpus(Path dir, long seed, int dialogues, int evalPerTask, SandboxWorld.Mix mix) {
    public static final int DEFAULT_EVAL_PER_TASK = 200;

    public Path pretrainFile() {
        return dir.resolve("pretrain.jsonl");
    }

    public Path evalFile(SandboxTask task) {
        return dir.resolve("eval-" + task.id() + ".jsonl");
    }

    /** {@link #write(Path, long, int, SandboxWorld.Mix, int)} with the standard mix and 200 evaluation prompts per task. */
    public static SandboxCorpus write(Path dir, long seed, int nDialogues) {
        return write(dir, seed, nDialogues, SandboxWorld.Mix.standard(), DEFAULT_EVAL_PER_TASK);
    }

    public static SandboxCorpus write(Path dir, long seed, int nDialogues, SandboxWorld.Mix mix, int evalPerTask) {
        if (nDialogues <= 0)
            throw new RlcdException("sandbox corpus: the number of dialogues must be positive, got " + nDialogues);
        if (evalPerTask < 0) throw new RlcdException("sandbox corpus: evalPerTask must be >= 0, got " + evalPerTask);
        SandboxWorld world = SandboxWorld.standard();
        Map<SandboxTask, Integer> perTask = new EnumMap<>(SandboxTask.class);
        int described = 0, good = 0, turns = 0;
        try {
            Files.createDirectories(dir);
            Random rng = new Random(seed);
            try (BufferedWriter out = Files.newBufferedWriter(dir.resolve("pretrain.jsonl"), StandardCharsets.UTF_8);
                    Progress p = Progress.start("sandbox corpus", nDialogues)) {
                for (int i = 0; i < nDialogues; i++) {
                    Dialogue d = world.pretrainingDialogue(rng, mix);
                    perTask.merge(d.task(), 1, Integer::sum);
                    for (Exchange e : d.exchanges()) {
                        if (e.good() == null) continue;
                        turns++;
                        if (e.good()) good++;
                        if (e.description() != null) described++;
                    }
                    JsonObject o = new JsonObject();
                    o.addProperty("id", String.format("pretrain-%07d", i));
                    o.addProperty("task", d.task().id());
                    o.addProperty("text", d.text());
                    out.write(Json.GSON.toJson(o));
                    out.write('\n');
                    if (i % 1000 == 999) p.advance(1000);
                }
                p.set(nDialogues);
            }
            for (SandboxTask task : SandboxTask.values()) {
                // Its own stream per task, so the evaluation set does not change with the corpus size.
                Random evalRng = new Random(seed * 1_000_003L + 7919L * (task.ordinal() + 1));
                Set<String> prompts = new LinkedHashSet<>();
                for (int tries = 0; prompts.size() < evalPerTask; tries++) {
                    if (tries > 100L * evalPerTask + 1000)
                        throw new RlcdException("sandbox corpus: only " + prompts.size() + " distinct held-out " + task
                                + " prompts found; ask for fewer than " + evalPerTask);
                    prompts.add(world.evaluationDialogue(task, evalRng).prompt());
                }
                try (BufferedWriter out =
                        Files.newBufferedWriter(dir.resolve("eval-" + task.id() + ".jsonl"), StandardCharsets.UTF_8)) {
                    int i = 0;
                    for (String prompt : prompts) {
                        JsonObject o = new JsonObject();
                        o.addProperty("id", String.format("%s-%04d", task.id(), i++));
                        o.addProperty("task", task.id());
                        o.addProperty("prompt", prompt);
                        out.write(Json.GSON.toJson(o));
                        out.write('\n');
                    }
                }
            }
            JsonObject m = new JsonObject();
            m.addProperty("generator", "rlcd4j.sandbox.SandboxCorpus.write(dir, seed, dialogues, mix, evalPerTask)");
            m.addProperty("seed", seed);
            m.addProperty("dialogues", nDialogues);
            for (SandboxTask t : SandboxTask.values()) m.addProperty("dialogues_" + t.id(), perTask.getOrDefault(t, 0));
            m.addProperty("judged_assistant_turns", turns);
            m.addProperty("good_turns", good);
            m.addProperty("described_turns", described);
            m.addProperty("mix_described", mix.described());
            m.addProperty("mix_good", mix.good());
            m.addProperty("mix_small_talk", mix.smallTalk());
            m.addProperty("mix_earlier_exchange", mix.earlierExchange());
            m.addProperty("held_out_percent", SandboxWorld.HELD_OUT_PERCENT);
            m.addProperty("eval_per_task", evalPerTask);
            Files.writeString(dir.resolve("corpus.json"), Json.PRETTY.toJson(m), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RlcdException(dir + ": cannot write the sandbox corpus: " + e.getMessage(), e);
        }
        return new SandboxCorpus(dir, seed, nDialogues, evalPerTask, mix);
    }

    /** The {@code text} fields of a pretrain.jsonl file, in order. */
    public static List<String> readTexts(Path pretrainJsonl) {
        return readField(pretrainJsonl, "text");
    }

    /** The {@code prompt} fields of an eval-*.jsonl file, in order. */
    public static List<String> readPrompts(Path evalJsonl) {
        return readField(evalJsonl, "prompt");
    }

    private static List<String> readField(Path file, String field) {
        List<String> out = new ArrayList<>();
        for (DataFiles.Line l : JsonlLines.read(file)) {
            JsonObject o;
            try {
                o = Json.GSON.fromJson(l.text(), JsonObject.class);
            } catch (JsonParseException e) {
                throw RlcdException.at(file, l.number(), "not a JSON object: " + e.getMessage());
            }
            if (o == null || !o.has(field) || !o.get(field).isJsonPrimitive())
                throw RlcdException.at(file, l.number(), "expected a string field '" + field + "'");
            out.add(o.get(field).getAsString());
        }
        return out;
    }
}
