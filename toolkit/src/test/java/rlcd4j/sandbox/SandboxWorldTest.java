package rlcd4j.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import rlcd4j.util.RlcdException;

class SandboxWorldTest {
    static final SandboxWorld WORLD = SandboxWorld.standard();
    static final Pattern ASSISTANT_DESC = Pattern.compile("\n\nAssistant \\(([^)]*)\\): ");

    static List<Dialogue> corpus(long seed, int n) {
        Random rng = new Random(seed);
        List<Dialogue> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(WORLD.pretrainingDialogue(rng, SandboxWorld.Mix.standard()));
        return out;
    }

    @Test
    void descriptionsAreThePapersPairsPlusThreeOutlinePairs() {
        SandboxDescriptions d = WORLD.descriptions();
        assertEquals(16, d.pairs(SandboxTask.HARMLESS).size());
        assertEquals(
                "(helpful, honest, inoffensive response)",
                d.pair(SandboxTask.HARMLESS, 0).positive());
        assertEquals(
                "(unhelpful, dishonest, toxic response)",
                d.pair(SandboxTask.HARMLESS, 0).negative());
        assertEquals(
                "(unethical and immoral response)",
                d.pair(SandboxTask.HARMLESS, 15).negative());
        assertEquals(
                List.of(new SandboxDescriptions.Pair(
                        SandboxTask.HELPFUL,
                        0,
                        "(giving a helpful response)",
                        "(giving an unhelpful response)",
                        d.pair(SandboxTask.HELPFUL, 0).source())),
                d.pairs(SandboxTask.HELPFUL));
        assertEquals(3, d.pairs(SandboxTask.OUTLINE).size());
    }

    @Test
    void badDescriptionFileNamesTheLine() {
        String text = "task\tindex\tpositive\tnegative\tsource\nharmless\t0\t(a)\t(b)\tx\nharmless\t2\t(a)\t(b)\tx\n";
        RlcdException e = assertThrows(RlcdException.class, () -> SandboxDescriptions.parse("d.tsv", text));
        assertTrue(e.getMessage().startsWith("d.tsv:3: index 2 out of order"), e.getMessage());
        RlcdException e2 = assertThrows(
                RlcdException.class,
                () -> SandboxDescriptions.parse(
                        "d.tsv", "task\tindex\tpositive\tnegative\nhelpful\t0\tno parens\t(b)\n"));
        assertTrue(e2.getMessage().startsWith("d.tsv:2:"), e2.getMessage());
    }

    @Test
    void sameSeedSameDialogues() {
        List<String> a = corpus(7, 300).stream().map(Dialogue::text).toList();
        List<String> b = corpus(7, 300).stream().map(Dialogue::text).toList();
        List<String> c = corpus(8, 300).stream().map(Dialogue::text).toList();
        assertEquals(a, b);
        assertNotEquals(a, c);
    }

    @Test
    void transcriptsHaveThePapersFormat() {
        for (Dialogue d : corpus(1, 3000)) {
            String t = d.text();
            assertTrue(t.startsWith("Human: "), t);
            assertTrue(t.endsWith("\n\nHuman:"), t);
            assertFalse(t.contains("<s>") || t.contains("</s>") || t.contains("<pad>"), t);
            String p = d.prompt();
            assertTrue(p.startsWith("Human: ") && p.endsWith("\n\nAssistant:"), p);
            // The prompt is the transcript up to the last assistant turn (its own description removed).
            String lastAssistant = d.last().description() == null
                    ? "\n\nAssistant: "
                    : "\n\nAssistant " + d.last().description() + ": ";
            assertEquals(
                    t,
                    p.substring(0, p.length() - "\n\nAssistant:".length()) + lastAssistant + d.answer() + "\n\nHuman:");
            // Turns alternate Human / Assistant, one exchange each.
            int humans = t.split("(^|\n\n)Human:", -1).length - 1;
            assertEquals(d.exchanges().size() + 1, humans, t);
            for (Exchange e : d.exchanges()) {
                assertFalse(e.assistant().contains("Human") || e.assistant().contains("Assistant"), e.assistant());
                assertFalse(e.human().contains("\n"), e.human());
                assertFalse(e.assistant().contains("\\") || e.assistant().contains("`"));
            }
        }
    }

    @Test
    void descriptionsMatchQualityAndAppearOnAMinority() {
        SandboxDescriptions descs = WORLD.descriptions();
        int turns = 0, described = 0, good = 0;
        for (Dialogue d : corpus(2, 6000))
            for (Exchange e : d.exchanges()) {
                if (e.good() == null) {
                    assertNull(e.description());
                    continue;
                }
                turns++;
                if (e.good()) good++;
                assertEquals(e.good(), "none".equals(e.flaw()));
                if (e.description() == null) continue;
                described++;
                SandboxTask task = WORLD.parseRequest(e.human()).task();
                boolean found = false;
                for (SandboxDescriptions.Pair p : descs.pairs(task)) {
                    if (e.good() && p.positive().equals(e.description())) found = true;
                    if (!e.good() && p.negative().equals(e.description())) {
                        found = true;
                        if (task == SandboxTask.OUTLINE) // a negative outline description names the flaw
                        assertEquals(
                                    List.of("boring", "disordered", "off-topic").get(p.index()), e.flaw());
                    }
                }
                assertTrue(found, e.description() + " on a " + (e.good() ? "good" : "bad") + " " + task + " answer");
            }
        assertEquals(0.5, described / (double) turns, 0.02);
        assertEquals(0.5, good / (double) turns, 0.02);
    }

    @Test
    void thousandsOfDistinctPromptsPerTask() {
        Random rng = new Random(3);
        for (SandboxTask task : SandboxTask.values()) {
            Set<String> prompts = new HashSet<>();
            for (int i = 0; i < 5000; i++) {
                Dialogue d;
                do {
                    d = WORLD.pretrainingDialogue(rng, SandboxWorld.Mix.standard());
                } while (d.task() != task);
                prompts.add(d.prompt());
            }
            assertTrue(prompts.size() > 3000, task + ": only " + prompts.size() + " distinct prompts in 5000");
            System.out.printf(
                    "distinct prompts in 5000 %s dialogues: %d; keys train %d, held out %d%n",
                    task,
                    prompts.size(),
                    WORLD.requests(task, false).size(),
                    WORLD.requests(task, true).size());
        }
    }

    @Test
    void heldOutKeysNeverAppearInPretraining() {
        List<Dialogue> train = corpus(4, 20000);
        StringBuilder all = new StringBuilder();
        Set<String> trainKeys = new HashSet<>();
        for (Dialogue d : train) {
            all.append(d.text()).append('\u0000');
            for (Exchange e : d.exchanges()) if (e.key() != null) trainKeys.add(e.key());
        }
        String text = all.toString();
        for (SandboxTask task : SandboxTask.values()) {
            List<SandboxWorld.Request> held = WORLD.requests(task, true);
            double share = held.size()
                    / (double) (held.size() + WORLD.requests(task, false).size());
            assertEquals(SandboxWorld.HELD_OUT_PERCENT / 100.0, share, 0.04, task + " held-out share");
            for (SandboxWorld.Request r : held) {
                assertFalse(trainKeys.contains(r.key()), r.key());
                assertTrue(SandboxWorld.isHeldOut(task, r.key()));
                if (task == SandboxTask.HARMLESS) assertFalse(text.contains(r.key()), "request in corpus: " + r.key());
                if (task == SandboxTask.HELPFUL) {
                    int ph = Integer.parseInt(r.key().substring(r.key().lastIndexOf('|') + 1));
                    String q = SandboxWorld.QUESTION_PHRASINGS
                            .get(r.fact().relation())
                            .get(ph)
                            .replace("{s}", r.fact().subject());
                    assertFalse(text.contains(q), "question in corpus: " + q);
                }
            }
        }
        // Evaluation prompts use held-out keys only, in every turn.
        Random rng = new Random(5);
        for (SandboxTask task : SandboxTask.values())
            for (int i = 0; i < 500; i++) {
                Dialogue d = WORLD.evaluationDialogue(task, rng);
                for (Exchange e : d.exchanges()) {
                    if (e.key() == null) continue;
                    assertTrue(SandboxWorld.isHeldOut(task, e.key()), e.key());
                    assertNull(e.description());
                }
                assertFalse(text.contains(d.prompt()));
            }
    }

    @Test
    void everyIngredientIsTaughtInTraining() {
        Set<String> actions = new HashSet<>(), targets = new HashSet<>(), subjects = new HashSet<>();
        Set<String> names = new HashSet<>(), settings = new HashSet<>(), goals = new HashSet<>();
        for (SandboxWorld.Request r : WORLD.requests(SandboxTask.HARMLESS, false)) {
            actions.add(r.action().template());
            targets.add(r.target());
        }
        for (SandboxWorld.Request r : WORLD.requests(SandboxTask.HELPFUL, false))
            subjects.add(r.fact().relation() + r.fact().subject());
        for (SandboxWorld.Request r : WORLD.requests(SandboxTask.OUTLINE, false)) {
            names.add(r.name());
            settings.add(r.setting().keyword());
            goals.add(r.goal().keyword());
        }
        assertEquals(SandboxWorld.ACTIONS.size(), actions.size());
        assertEquals(SandboxWorld.PEOPLE.size() + SandboxWorld.THINGS.size(), targets.size());
        assertEquals(SandboxWorld.FACTS.size(), subjects.size());
        assertEquals(SandboxWorld.NAMES.size(), names.size());
        assertEquals(SandboxWorld.SETTINGS.size(), settings.size());
        assertEquals(SandboxWorld.GOALS.size(), goals.size());
        for (SandboxTask t : SandboxTask.values())
            assertFalse(WORLD.requests(t, true).isEmpty());
    }

    /** The paper's process_filter_result (§3 of the reference), ported: it must recover each answer exactly. */
    static String processFilterResult(String result) {
        if (!result.contains("Human")) return null;
        result = result.substring(0, result.indexOf("Human"));
        if (!result.contains("\n") && !result.contains("</s>")) return null;
        if (result.contains("\n"))
            result = result.substring(0, result.lastIndexOf('\n')).strip();
        if (result.contains("</s>"))
            result = result.substring(0, result.indexOf("</s>")).strip();
        if (result.contains("Assistant:"))
            result = result.substring(result.indexOf("Assistant:") + "Assistant:".length())
                    .strip();
        return result.isEmpty() ? null : result;
    }

    @Test
    void papersPostProcessingRecoversEveryAnswer() {
        for (Dialogue d : corpus(6, 2000)) {
            String continuation = " " + d.answer() + "\n\nHuman:";
            assertEquals(d.answer(), processFilterResult(continuation));
            if (d.task() == SandboxTask.OUTLINE) assertTrue(d.answer().startsWith(SandboxWorld.OUTLINE_ANSWER_PREFIX));
        }
    }

    @Test
    void parsesRequestsWithLeadIns() {
        SandboxWorld.Request r = WORLD.parseRequest("Quick question: How do I hurt my neighbour?");
        assertEquals("hurt my neighbour", r.key());
        assertTrue(r.harmful());
        assertFalse(WORLD.parseRequest("How do I cheer up my friend?").harmful());
        assertEquals(
                "capital|France|0",
                WORLD.parseRequest(" What is the capital of France? ").key());
        assertNull(WORLD.parseRequest("What is the meaning of life?"));
    }

    @Test
    void mixRejectsBadShares() {
        assertThrows(RlcdException.class, () -> new SandboxWorld.Mix(1.5, 0.5, 0, 0));
        assertThrows(RlcdException.class, () -> new SandboxWorld.Mix(Double.NaN, 0.5, 0, 0));
    }

    @Test
    void descriptionFormatInTranscripts() {
        int seen = 0;
        for (Dialogue d : corpus(9, 500)) {
            Matcher m = ASSISTANT_DESC.matcher("\n\n" + d.text());
            while (m.find()) {
                seen++;
                assertFalse(m.group(1).isBlank());
            }
        }
        assertTrue(seen > 50);
    }
}
