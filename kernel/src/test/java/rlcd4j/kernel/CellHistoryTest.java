package rlcd4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class CellHistoryTest {
    private static CellHistory history() {
        CellHistory h = new CellHistory();
        h.add(1, "int a = 1;", null);
        h.add(2, "6 * 7", "42");
        h.add(4, "a + 1", "2"); // count 3 ran with store_history=false
        h.add(5, "6 * 7", "42");
        return h;
    }

    private static List<Integer> cells(List<CellHistory.Entry> entries) {
        return entries.stream().map(CellHistory.Entry::cell).toList();
    }

    @Test
    void tailIsTheLastCellsOldestFirst() {
        assertEquals(List.of(4, 5), cells(history().tail(2)));
        assertEquals(List.of(1, 2, 4, 5), cells(history().tail(10)));
        assertEquals(List.of(), cells(history().tail(0)));
        assertEquals("42", history().tail(1).get(0).output());
    }

    @Test
    void rangeIsStartInclusiveStopExclusiveInThisSession() {
        assertEquals(List.of(2), cells(history().range(CellHistory.SESSION, 2, 3)));
        assertEquals(List.of(2, 4), cells(history().range(0, 2, 5))); // 0: the current session
        assertEquals(List.of(4, 5), cells(history().range(0, 3, 0))); // no stop: to the end
        assertEquals(List.of(), cells(history().range(-1, 1, 10))); // earlier sessions: none kept
    }

    @Test
    void searchMatchesGlobsOnTheWholeSource() {
        assertEquals(List.of(2, 5), cells(history().search("6 * 7", 0, false)));
        assertEquals(List.of(1, 4), cells(history().search("*a*", 0, false)));
        assertEquals(List.of(5), cells(history().search("6*", 0, true)));
        assertEquals(List.of(4, 5), cells(history().search("*", 2, false)));
        assertEquals(List.of(1), cells(history().search("int ? = 1;", 0, false)));
        assertEquals(List.of(), cells(history().search("7", 0, false)));
    }
}
