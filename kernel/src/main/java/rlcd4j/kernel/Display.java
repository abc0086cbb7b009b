package rlcd4j.kernel;

import org.dflib.jjava.jupyter.kernel.BaseKernel;

/**
 * A live output area made by {@link Notebook#show(Object)} (or wrapping an id from {@code display}).
 * {@link #update(Object)} redraws it in place. A cell that ends in {@code show(x);} shows {@code x} once, not also
 * this handle.
 */
public record Display(String id) {
    /** Replaces what this output area shows. */
    public void update(Object value) {
        BaseKernel.notebookKernel()
                .getIO()
                .display
                .updateDisplay(id, BaseKernel.notebookKernel().getRenderer().render(value));
    }

    /** Replaces what this output area shows, as the given MIME types only (e.g. "text/html"). */
    public void update(Object value, String... mimeTypes) {
        BaseKernel.notebookKernel()
                .getIO()
                .display
                .updateDisplay(id, BaseKernel.notebookKernel().getRenderer().renderAs(value, mimeTypes));
    }
}
