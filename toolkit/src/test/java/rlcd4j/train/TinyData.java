package rlcd4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** Small seeded data sets for the trainer tests, in TinyStories' vocabulary. */
final class TinyData {
    private TinyData() {}

    static final String[] ANIMALS = {
        "dog", "cat", "bird", "fish", "frog", "bear", "duck", "bunny", "lion", "mouse", "cow", "pig"
    };
    static final String[] NAMES = {"Tom", "Lily", "Sam", "Mia", "Ben", "Sue", "Max", "Anna", "Tim", "Lucy"};
    static final String[] PLACES = {"park", "garden", "house", "forest", "school", "river", "farm", "beach"};
    static final String[] VERBS = {"played", "ran", "jumped", "sang", "danced", "slept", "ate", "walked"};

    /**
     * Pairs whose chosen response says the animal was happy and whose rejected response says it was sad; otherwise the
     * two are the same sentence. A preference the model can only learn by reading the middle of the response.
     */
    static Table markerPairs(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> p = new ArrayList<>(), c = new ArrayList<>(), j = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String a = pick(r, ANIMALS), who = pick(r, NAMES), place = pick(r, PLACES), v = pick(r, VERBS);
            p.add("Human: Tell me about " + who + " and the " + a + ".\n\nAssistant:");
            String rest = " and " + v + " with " + who + " in the " + place + ".";
            c.add("The " + a + " was happy" + rest);
            j.add("The " + a + " was sad" + rest);
        }
        return Table.create(
                "marker pairs",
                StringColumn.create("prompt", p),
                StringColumn.create("chosen", c),
                StringColumn.create("rejected", j));
    }

    /** Pairs with unrelated chosen/rejected stories (for DPO and SFT). */
    static Table storyPairs(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> p = new ArrayList<>(), c = new ArrayList<>(), j = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String a = pick(r, ANIMALS), who = pick(r, NAMES);
            p.add("Once upon a time, " + who + " had a " + a + ".");
            c.add(who + " and the " + a + " " + pick(r, VERBS) + " in the " + pick(r, PLACES)
                    + ". They were very happy.");
            j.add("The " + a + " " + pick(r, VERBS) + " away. " + who + " was sad and cried.");
        }
        return Table.create(
                "story pairs",
                StringColumn.create("prompt", p),
                StringColumn.create("chosen", c),
                StringColumn.create("rejected", j));
    }

    static Table withPChosen(Table t, double p) {
        Table c = t.copy();
        double[] v = new double[t.rowCount()];
        java.util.Arrays.fill(v, p);
        c.addColumns(DoubleColumn.create("p_chosen", v));
        return c;
    }

    private static String pick(SplittableRandom r, String[] xs) {
        return xs[r.nextInt(xs.length)];
    }

    /** A progress sink that throws after {@code n} reports of the named task: an in-process crash at a chosen point. */
    static ProgressSink crashAfter(String label, int n) {
        return new ProgressSink() {
            int seen;

            public void started(Progress p) {}

            public void updated(Progress p) {
                if (p.label().equals(label) && ++seen >= n) throw new IllegalStateException("simulated crash");
            }

            public void finished(Progress p) {}
        };
    }
}
