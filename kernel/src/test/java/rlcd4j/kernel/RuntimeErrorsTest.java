package rlcd4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A runtime error in a cell is reported with the cell and line of the code that threw, without kernel frames. */
class RuntimeErrorsTest {
    static CellEvaluator ev;

    @BeforeAll
    static void start() {
        List<String> cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.isBlank())
                .toList();
        ev = new CellEvaluator(cp, List.of());
    }

    @AfterAll
    static void stop() {
        ev.close();
    }

    private static List<String> report(String code, int cell) {
        Exception e = assertThrows(Exception.class, () -> ev.eval(code, cell));
        Throwable shown = e instanceof CellError ? e.getCause() : e;
        List<String> lines = ErrorReport.lines(shown, ev::cellFrame);
        System.out.println(String.join("\n", lines));
        for (String l : lines) {
            assertFalse(
                    l.contains("REPL.") || l.contains("do_it$") || l.contains("$JShell$"), "JShell internals: " + l);
            assertFalse(
                    l.contains("jdk.internal.reflect") || l.contains("ObjectExecutionControl"), "kernel frame: " + l);
        }
        return lines;
    }

    @Test
    void anExceptionPointsAtTheCellLine() {
        List<String> lines = report("int a = 1;\nint b = 0;\n\nint c = a / b;", 7);
        assertEquals("java.lang.ArithmeticException: / by zero", lines.get(0));
        assertEquals("    at cell 7, line 4", lines.get(1));
        assertTrue(lines.get(2).matches(" {4}\\.\\.\\. \\d+ kernel frames"), lines.get(2));
        assertEquals(3, lines.size(), String.join("\n", lines));
    }

    @Test
    void framesOfMethodsAndClassesNameTheirCellAndLine() throws Exception {
        ev.eval("int f(int x) {\n  if (x > 2)\n    throw new IllegalStateException(\"boom \" + x);\n  return x;\n}", 2);
        ev.eval("class Box {\n  int get() {\n    return f(5);\n  }\n}", 3);
        List<String> lines = report("int y = 1;\n  new Box().get()", 4);
        assertEquals("java.lang.IllegalStateException: boom 5", lines.get(0));
        assertEquals("    at f (cell 2, line 3)", lines.get(1));
        assertEquals("    at Box.get (cell 3, line 3)", lines.get(2));
        assertEquals("    at cell 4, line 2", lines.get(3));
    }

    @Test
    void libraryFrameWhereItWasThrownIsShownTheRestFolded() {
        List<String> lines = report("String s = \"x1\";\nint n = Integer.parseInt(s);", 5);
        assertTrue(lines.get(0).startsWith("java.lang.NumberFormatException: For input string: \"x1\""), lines.get(0));
        assertTrue(
                lines.get(1).startsWith("    at java.base/java.lang.NumberFormatException.forInputString("),
                lines.get(1));
        assertTrue(lines.get(2).matches(" {4}\\.\\.\\. \\d+ library frames?"), lines.get(2));
        assertEquals("    at cell 5, line 2", lines.get(3));
    }

    @Test
    void deepRecursionIsCountedNotListed() {
        List<String> lines = report("int deep(int x) { return deep(x + 1) + 1; }\ndeep(1)", 9);
        assertInstanceOf(String.class, lines.get(0));
        assertTrue(lines.get(0).startsWith("java.lang.StackOverflowError"), lines.get(0));
        assertEquals("    at deep (cell 9, line 1)", lines.get(1));
        assertTrue(lines.get(2).matches(" {4}\\[the line above repeated \\d+ more times]"), lines.get(2));
        assertTrue(lines.size() < 8, String.join("\n", lines));
    }

    @Test
    void causesAreShownTheSameWay() {
        List<String> lines = report(
                "try {\n  Object o = null;\n  o.hashCode();\n} catch (NullPointerException e) {\n"
                        + "  throw new RuntimeException(\"wrapped\", e);\n}",
                11);
        assertTrue(lines.get(0).startsWith("java.lang.RuntimeException: wrapped"), lines.get(0));
        assertEquals("    at cell 11, line 5", lines.get(1));
        int cause = lines.indexOf(lines.stream()
                .filter(l -> l.startsWith("Caused by: java.lang.NullPointerException"))
                .findFirst()
                .orElseThrow());
        assertEquals("    at cell 11, line 3", lines.get(cause + 1));
    }
}
