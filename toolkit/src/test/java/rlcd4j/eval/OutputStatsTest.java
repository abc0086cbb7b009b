package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

class OutputStatsTest {
    @Test
    void distinctNByHand() {
        // words: a b a b c | a b  -> unigrams 7 total, {a,b,c} 3 distinct; bigrams ab ba ab bc | ab -> 5 total,
        // {ab,ba,bc} 3
        List<String> texts = List.of("a b a b c", " a  b\n");
        assertEquals(3 / 7.0, OutputStats.distinct(texts, 1), 1e-12);
        assertEquals(3 / 5.0, OutputStats.distinct(texts, 2), 1e-12);
        assertEquals(3 / 3.0, OutputStats.distinct(texts, 3), 1e-12); // aba bab abc
        assertTrue(Double.isNaN(OutputStats.distinct(List.of("", "x"), 2)));
    }

    @Test
    void perModelLengthsWithDefaultAndCustomCounters() {
        Table a = Outputs.of("m1", null, List.of("p", "p", "p"), List.of("one two", "one two three four", ""));
        Table b = Outputs.of("m2", null, List.of("p"), List.of("x y z"));
        Table all = a.copy().append(b);
        Table s = OutputStats.of(all);
        assertEquals(List.of("m1", "m2"), s.stringColumn("model").asList());
        assertEquals(2.0, s.doubleColumn("mean_tokens").get(0), 1e-12);
        assertEquals(2.0, s.doubleColumn("sd_tokens").get(0), 1e-12); // 2, 4, 0: sample sd = 2
        assertEquals(2.0, s.doubleColumn("median_tokens").get(0), 1e-12);
        assertEquals(1.0, s.doubleColumn("dist_1").get(1), 1e-12);
        Table c = OutputStats.of(all, String::length); // e.g. a character counter
        assertEquals(5.0, c.doubleColumn("mean_tokens").get(1), 1e-12);
    }
}
