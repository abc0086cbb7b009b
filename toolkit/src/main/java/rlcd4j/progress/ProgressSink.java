package rlcd4j.progress;

/** Where {@link Progress} reports go. Implementations must be cheap: {@code updated} may be called per token. */
public interface ProgressSink {
    void started(Progress p);

    void updated(Progress p);

    void finished(Progress p);

    /** Discards everything (tests, benchmarks). */
    ProgressSink SILENT = new ProgressSink() {
        public void started(Progress p) {}

        public void updated(Progress p) {}

        public void finished(Progress p) {}
    };
}
