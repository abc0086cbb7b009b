package rlcd4j.kernel;

import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import rlcd4j.kernel.display.ChartDisplay;

import java.util.UUID;

/**
 * Functions every cell can call without a prefix (imported statically at start). Names follow IJava/JJava so their
 * notebooks run unchanged: {@code display}, {@code updateDisplay}, {@code render}.
 */
public final class Notebook {
    private Notebook() {
    }

    /** Shows {@code value} now, in its richest form (HTML table, PNG chart, ...), and returns a handle to update it. */
    public static Display display(Object value) {
        return show(kernel().getRenderer().render(value));
    }

    /** Shows {@code value} as the given MIME types only, e.g. {@code display(chart, "image/svg+xml")}. */
    public static Display display(Object value, String... mimeTypes) {
        return show(kernel().getRenderer().renderAs(value, mimeTypes));
    }

    /** Redraws the output made by {@link #display(Object)} (IJava's spelling of {@link Display#update}). */
    public static void updateDisplay(Display display, Object value) {
        display.update(value);
    }

    /** Redraws the output with display id {@code id}. */
    public static void updateDisplay(String id, Object value) {
        new Display(id).update(value);
    }

    /** The display data {@code value} would be shown as; the last expression of a cell is rendered this way. */
    public static DisplayData render(Object value, String... mimeTypes) {
        return mimeTypes.length == 0 ? kernel().getRenderer().render(value) : kernel().getRenderer().renderAs(value, mimeTypes);
    }

    /** Charts as "png" (default) or "svg" from now on. */
    public static void chartFormat(String format) {
        ChartDisplay.setDefaultFormat(format);
    }

    private static Display show(DisplayData data) {
        String id = data.hasDisplayId() ? data.getDisplayId() : UUID.randomUUID().toString();
        data.setDisplayId(id);
        kernel().display(data);
        return new Display(id);
    }

    private static BaseKernel kernel() {
        return BaseKernel.notebookKernel();
    }
}
