package rlcd4j.progress;

import java.util.Objects;

/**
 * Progress of a long toolkit call (generation, simulation, training), reported to whichever {@link ProgressSink} is
 * installed: a terminal bar on the CLI, one live line updated in place in a notebook.
 *
 * <pre>{@code
 * try (Progress p = Progress.start("simulate rlcd", prompts.size())) {
 *     for (...) { ...; p.advance(1); p.status("kept 12, dropped 1"); }
 * }
 * }</pre>
 */
public final class Progress implements AutoCloseable {
    private static volatile ProgressSink sink = TerminalProgressSink.auto();

    private final String label;
    private final long total;
    private final long startNanos = System.nanoTime();
    private long done;
    private String status = "";
    private boolean closed;

    private Progress(String label, long total) {
        this.label = Objects.requireNonNull(label);
        this.total = total;
    }

    /** Starts a task of {@code total} units ({@code total <= 0}: unknown). */
    public static Progress start(String label, long total) {
        Progress p = new Progress(label, total);
        sink.started(p);
        return p;
    }

    /** Installs where progress goes; returns the previous sink so callers can restore it. */
    public static ProgressSink setSink(ProgressSink newSink) {
        ProgressSink old = sink;
        sink = Objects.requireNonNull(newSink);
        return old;
    }

    public static ProgressSink sink() {
        return sink;
    }

    public synchronized void advance(long units) {
        done += units;
        sink.updated(this);
    }

    public synchronized void set(long unitsDone) {
        done = unitsDone;
        sink.updated(this);
    }

    /** A short free-text status shown after the counts, e.g. the current loss. */
    public synchronized void status(String text) {
        status = text == null ? "" : text;
        sink.updated(this);
    }

    public String label() {
        return label;
    }

    public long total() {
        return total;
    }

    public synchronized long done() {
        return done;
    }

    public synchronized String status() {
        return status;
    }

    public double elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** One line such as {@code simulate rlcd  [#####.....]  50/100  12.3 s  eta 12 s  kept 49}. */
    public synchronized String line(int barWidth) {
        StringBuilder sb = new StringBuilder(label).append("  ");
        double secs = elapsedSeconds();
        if (total > 0) {
            double frac = Math.min(1.0, done / (double) total);
            int filled = (int) Math.round(frac * barWidth);
            sb.append('[')
                    .append("#".repeat(filled))
                    .append(".".repeat(barWidth - filled))
                    .append("]  ");
            sb.append(done).append('/').append(total);
            sb.append(String.format("  %.1f s", secs));
            if (done > 0 && done < total) sb.append(String.format("  eta %.0f s", secs / done * (total - done)));
        } else {
            sb.append(done).append(String.format("  %.1f s", secs));
        }
        if (!status.isEmpty()) sb.append("  ").append(status);
        return sb.toString();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        sink.finished(this);
    }
}
