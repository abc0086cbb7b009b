package rlcd4j.kernel;

import java.util.List;
import java.util.UUID;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseNotebookStatics;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import rlcd4j.kernel.display.ChartDisplay;

/**
 * Functions every cell can call without a prefix (imported statically at start). {@code display}, {@code render} and
 * {@code updateDisplay} have IJava's/JJava's signatures, so cells from their notebooks compile and run unchanged:
 * {@code String id = display(x); updateDisplay(id, y);}. {@link #show(Object)} is the same as {@code display} but
 * returns a {@link Display} handle with {@code update}.
 */
public final class Notebook {
    /** The id {@code display} returned last: a cell ending in {@code display(x);} shows x once, not also this id. */
    private static volatile String lastDisplayId;

    private Notebook() {}

    /** Shows {@code value} now, in its richest form (HTML table, PNG chart, ...), and returns its display id. */
    public static String display(Object value) {
        return publish(kernel().getRenderer().render(value));
    }

    /**
     * Shows {@code value} as the given MIME types only, e.g. {@code display(chart, "image/svg+xml")}; returns its id.
     */
    public static String display(Object value, String... mimeTypes) {
        return publish(kernel().getRenderer().renderAs(value, mimeTypes));
    }

    /** Redraws the output with display id {@code id} (from {@link #display(Object)}) as {@code value}. */
    public static void updateDisplay(String id, Object value) {
        new Display(id).update(value);
    }

    /** Redraws the output with display id {@code id} as {@code value}, in the given MIME types only. */
    public static void updateDisplay(String id, Object value, String... mimeTypes) {
        new Display(id).update(value, mimeTypes);
    }

    /** Redraws the output made by {@link #show(Object)}. */
    public static void updateDisplay(Display display, Object value) {
        display.update(value);
    }

    /** The display data {@code value} would be shown as; the last expression of a cell is rendered this way. */
    public static DisplayData render(Object value) {
        return kernel().getRenderer().render(value);
    }

    /** The display data of {@code value} in the given MIME types only (a cell ending in it shows those). */
    public static DisplayData render(Object value, String... mimeTypes) {
        return mimeTypes.length == 0 ? render(value) : kernel().getRenderer().renderAs(value, mimeTypes);
    }

    /** Like {@link #display(Object)}, but returns a handle: {@code var d = show(x); ... d.update(y);}. */
    public static Display show(Object value) {
        return new Display(display(value));
    }

    /** Like {@link #display(Object, String...)}, but returns a handle to update the output. */
    public static Display show(Object value, String... mimeTypes) {
        return new Display(display(value, mimeTypes));
    }

    /**
     * Runs a line magic from code, as {@code %name args} does:
     * {@code List<String> jars = lineMagic("jars", List.of("lib/*.jar"));}
     */
    public static <T> T lineMagic(String name, List<String> args) {
        return BaseNotebookStatics.lineMagic(name, args);
    }

    /** Runs a cell magic from code, as a cell starting with {@code %%name args} does. */
    public static <T> T cellMagic(String name, List<String> args, String body) {
        return BaseNotebookStatics.cellMagic(name, args, body);
    }

    /** Charts as "png" (default) or "svg" from now on. */
    public static void chartFormat(String format) {
        ChartDisplay.setDefaultFormat(format);
    }

    /** True for the very String object the last {@code display} call returned (not an equal one). */
    static boolean isLastDisplayId(Object value) {
        return value != null && value == lastDisplayId;
    }

    private static String publish(DisplayData data) {
        String id =
                data.hasDisplayId() ? data.getDisplayId() : UUID.randomUUID().toString();
        data.setDisplayId(id);
        kernel().display(data);
        lastDisplayId = id;
        return id;
    }

    private static BaseKernel kernel() {
        return BaseKernel.notebookKernel();
    }
}
