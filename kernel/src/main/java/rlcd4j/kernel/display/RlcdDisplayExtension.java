package rlcd4j.kernel.display;

import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import rlcd4j.progress.Progress;
import rlcd4j.progress.ProgressSink;

/**
 * The toolkit's notebook display as a JJava extension: Tablesaw tables as HTML, XChart charts as PNG/SVG, toolkit
 * progress as one live line. The rlcd kernel installs it at start; stock JJava/IJava kernels find it through
 * {@code META-INF/services/org.dflib.jjava.jupyter.Extension} when this jar is on their class path.
 * ({@code BufferedImage} as PNG is built into jjava-jupyter.)
 */
public final class RlcdDisplayExtension implements Extension {
    private ProgressSink previous;

    @Override
    public void install(BaseKernel kernel) {
        TableDisplay.register(kernel.getRenderer());
        ChartDisplay.register(kernel.getRenderer());
        previous = Progress.setSink(new NotebookProgressSink(kernel, Progress.sink()));
    }

    @Override
    public void uninstall(BaseKernel kernel) {
        if (previous != null) Progress.setSink(previous);
    }
}
