package rlcd4j.kernel;

/**
 * Carries a {@link Throwable} that is not an {@link Exception} (StackOverflowError, OutOfMemoryError, ...) out of a
 * cell: the Jupyter layer reports only exceptions, and an Error must not take the kernel down.
 */
public final class CellError extends RuntimeException {
    CellError(Throwable cause) {
        super(cause.toString(), cause);
    }
}
