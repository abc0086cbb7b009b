package rlcd4j.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Expected values are CPython 3.11 outputs (see each comment for the Python that printed them). */
class PythonRandomTest {
    @Test
    void randomMatchesCPython() {
        // random.seed(0); [random.random() for _ in range(3)]
        PythonRandom r = new PythonRandom(0);
        assertEquals(0.8444218515250481, r.random());
        assertEquals(0.7579544029403025, r.random());
        assertEquals(0.420571580830845, r.random());
    }

    @Test
    void stateRegenerationAfter624WordsMatches() {
        // random.seed(0); v=[random.random() for _ in range(1000)]; v[623], v[624], v[999]
        PythonRandom r = new PythonRandom(0);
        double[] v = new double[1000];
        for (int i = 0; i < 1000; i++) v[i] = r.random();
        assertEquals(0.5198341022016146, v[623]);
        assertEquals(0.5739818030823766, v[624]);
        assertEquals(0.4804125346981437, v[999]);
    }

    @Test
    void choiceMatchesCPython() {
        // random.seed(0); [random.choice(range(16)) for _ in range(20)]
        PythonRandom r = new PythonRandom(0);
        int[] expected = {12, 13, 1, 8, 15, 12, 9, 15, 11, 6, 4, 9, 4, 3, 8, 4, 9, 3, 2, 10};
        int[] got = IntStream.range(0, 20).map(i -> r.choiceIndex(16)).toArray();
        assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(got));
    }

    @Test
    void choiceOfOneStillConsumesDraws() {
        // random.seed(0); [random.choice(range(1)) for _ in range(3)], random.random()
        PythonRandom r = new PythonRandom(0);
        for (int i = 0; i < 3; i++) assertEquals(0, r.choiceIndex(1));
        assertEquals(0.25891675029296335, r.random());
    }

    @Test
    void getrandbitsMatchesCPython() {
        // random.seed(0); random.getrandbits(32), getrandbits(40), getrandbits(1), getrandbits(63)
        PythonRandom r = new PythonRandom(0);
        assertEquals(3626764237L, r.getrandbits(32));
        assertEquals(834878271422L, r.getrandbits(40));
        assertEquals(1L, r.getrandbits(1));
        assertEquals(373402508605428821L, r.getrandbits(63));
    }

    @Test
    void seedsLikeCPython() {
        assertEquals(0.6137037779936511, new PythonRandom((1L << 40) + 7).random()); // random.seed(2**40+7)
        assertEquals(0.6229016948897019, new PythonRandom(-5).random()); // random.seed(-5): |n| is used
    }

    @Test
    void shuffleMatchesCPython() {
        // random.seed(0); l=list(range(10)); random.shuffle(l)
        PythonRandom r = new PythonRandom(0);
        List<Integer> l = new ArrayList<>(IntStream.range(0, 10).boxed().toList());
        r.shuffle(l);
        assertEquals(List.of(7, 8, 1, 5, 3, 4, 2, 0, 9, 6), l);
    }
}
