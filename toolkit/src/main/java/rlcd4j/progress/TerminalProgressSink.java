package rlcd4j.progress;

import java.io.PrintStream;

/**
 * A progress bar on stderr. On a terminal it redraws one line with a carriage return; when stderr is a file or a
 * pipe (CI logs) it prints a plain line at most every {@code intervalSeconds}, so logs stay short.
 */
public final class TerminalProgressSink implements ProgressSink {
    private final PrintStream out;
    private final boolean interactive;
    private final double intervalSeconds;
    private long lastNanos;

    public TerminalProgressSink(PrintStream out, boolean interactive, double intervalSeconds) {
        this.out = out;
        this.interactive = interactive;
        this.intervalSeconds = intervalSeconds;
    }

    /** Interactive when a console is attached; otherwise a line every 10 s. */
    public static TerminalProgressSink auto() {
        return new TerminalProgressSink(System.err, System.console() != null, System.console() != null ? 0.1 : 10);
    }

    @Override
    public synchronized void started(Progress p) {
        lastNanos = System.nanoTime();
        if (interactive) out.print("\r" + p.line(30));
    }

    @Override
    public synchronized void updated(Progress p) {
        long now = System.nanoTime();
        if ((now - lastNanos) / 1e9 < intervalSeconds) return;
        lastNanos = now;
        if (interactive) out.print("\r" + p.line(30) + "\u001b[K");
        else out.println(p.line(30));
    }

    @Override
    public synchronized void finished(Progress p) {
        if (interactive) out.println("\r" + p.line(30) + "\u001b[K");
        else out.println(p.line(30));
        out.flush();
    }
}
