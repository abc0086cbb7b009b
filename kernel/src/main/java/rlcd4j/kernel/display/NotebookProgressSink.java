package rlcd4j.kernel.display;

import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.DisplayStream;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;
import rlcd4j.util.Html;

/**
 * Shows each {@link Progress} as one output line in the notebook and redraws it in place with
 * {@code update_display_data}, at most {@link #UPDATES_PER_SECOND} times a second, so a training run leaves one
 * line, not thousands. Progress reported while no cell runs goes to the previous sink (the terminal).
 */
public final class NotebookProgressSink implements ProgressSink {
    public static final int UPDATES_PER_SECOND = 4;
    private static final long MIN_GAP_NANOS = 1_000_000_000L / UPDATES_PER_SECOND;

    private final BaseKernel kernel;
    private final ProgressSink fallback;
    private final Map<Progress, Live> live = new IdentityHashMap<>();

    private static final class Live {
        final String id;
        long lastNanos;

        Live(String id) {
            this.id = id;
            this.lastNanos = System.nanoTime();
        }
    }

    public NotebookProgressSink(BaseKernel kernel, ProgressSink fallback) {
        this.kernel = kernel;
        this.fallback = fallback;
    }

    @Override
    public void started(Progress p) {
        DisplayStream display = kernel.getIO().display;
        if (!display.isAttached()) {
            fallback.started(p);
            return;
        }
        Live l = new Live(UUID.randomUUID().toString());
        synchronized (this) {
            live.put(p, l);
        }
        DisplayData data = data(p);
        data.setDisplayId(l.id);
        display.display(data);
    }

    @Override
    public void updated(Progress p) {
        Live l;
        synchronized (this) {
            l = live.get(p);
            if (l == null) {
                fallback.updated(p);
                return;
            }
            long now = System.nanoTime();
            if (now - l.lastNanos < MIN_GAP_NANOS) return;
            l.lastNanos = now;
        }
        send(l, p);
    }

    @Override
    public void finished(Progress p) {
        Live l;
        synchronized (this) {
            l = live.remove(p);
        }
        if (l == null) fallback.finished(p);
        else send(l, p);
    }

    private void send(Live l, Progress p) {
        DisplayStream display = kernel.getIO().display;
        if (display.isAttached()) display.updateDisplay(l.id, data(p));
    }

    /** The line as text and as HTML with a native progress bar. */
    static DisplayData data(Progress p) {
        DisplayData d = new DisplayData(p.line(30));
        StringBuilder html = new StringBuilder("<div style=\"font-family:monospace;white-space:pre\">");
        html.append(Html.escape(p.label())).append("  ");
        long done = p.done();
        if (p.total() > 0) {
            html.append(String.format(
                    Locale.ROOT,
                    "<progress value=\"%d\" max=\"%d\" style=\"width:16em;vertical-align:middle\"></progress>  %d/%d",
                    Math.min(done, p.total()),
                    p.total(),
                    done,
                    p.total()));
        } else {
            html.append(done);
        }
        double secs = p.elapsedSeconds();
        html.append(String.format(Locale.ROOT, "  %.1f s", secs));
        if (p.total() > 0 && done > 0 && done < p.total()) {
            html.append(String.format(Locale.ROOT, "  eta %.0f s", secs / done * (p.total() - done)));
        }
        if (!p.status().isEmpty()) html.append("  ").append(Html.escape(p.status()));
        d.putHTML(html.append("</div>").toString());
        return d;
    }
}
