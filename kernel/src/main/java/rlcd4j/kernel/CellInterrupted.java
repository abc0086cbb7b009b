package rlcd4j.kernel;

/** The user interrupted the cell (Jupyter's stop button or {@code interrupt_request}). */
public final class CellInterrupted extends RuntimeException {
    CellInterrupted() {
        super("the cell was interrupted");
    }
}
