package rlcd4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import rlcd4j.util.RlcdException;

/**
 * {@code rlcd kernel render-tutorial}: executes {@code notebooks/00-tutorial.ipynb} from scratch on an installed
 * kernel with {@code jupyter nbconvert --execute --to html} and writes the executed copy (figures included) to
 * {@code docs/tutorial.html}, so that it can be read before running anything. The run's stages go to a temporary
 * folder ({@code RLCD4J_RUNS}), so every figure comes from this execution, not from an earlier run's folder.
 */
@Command(
        name = "render-tutorial",
        mixinStandardHelpOptions = true,
        description = "Execute notebooks/00-tutorial.ipynb on an installed kernel and write it as HTML"
                + " (default: docs/tutorial.html).")
public final class RenderTutorialCommand implements Callable<Integer> {
    @Option(
            names = "--name",
            defaultValue = "rlcd-java",
            description = "The installed kernel to run it on (default: ${DEFAULT-VALUE}; see rlcd kernel install).")
    String name;

    @Option(
            names = "--jupyter-path",
            paramLabel = "DIR",
            description = "Also look for the kernel in DIR/kernels (as rlcd kernel install --jupyter-path).")
    Path jupyterPath;

    @Option(
            names = "--out",
            paramLabel = "FILE",
            description = "The HTML file (default: <checkout>/docs/tutorial.html).")
    Path out;

    @Option(
            names = "--timeout",
            defaultValue = "1800",
            paramLabel = "SECONDS",
            description = "Limit for the whole execution (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path checkout = KernelCommand.findRepoRoot();
        Path notebook = checkout.resolve("notebooks/00-tutorial.ipynb");
        if (!Files.isRegularFile(notebook)) throw new RlcdException(notebook + ": not found");
        Path html = (out != null ? out : checkout.resolve("docs/tutorial.html")).toAbsolutePath();
        Path work = Files.createTempDirectory("rlcd-render-tutorial");
        try {
            Path copy = Files.copy(notebook, work.resolve("00-tutorial.ipynb"));
            List<String> cmd = new ArrayList<>(List.of(
                    "jupyter",
                    "nbconvert",
                    "--execute",
                    "--to",
                    "html",
                    "--ExecutePreprocessor.kernel_name=" + name,
                    "--ExecutePreprocessor.timeout=" + timeoutSeconds,
                    "--output-dir",
                    work.toString(),
                    "--output",
                    "tutorial",
                    copy.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).inheritIO();
            Map<String, String> env = pb.environment();
            env.put("RLCD4J_RUNS", work.resolve("runs").toString()); // a fresh run: every stage computed here
            env.remove("RLCD4J_SCALE");
            if (jupyterPath != null) {
                String old = env.get("JUPYTER_PATH");
                env.put(
                        "JUPYTER_PATH",
                        jupyterPath.toAbsolutePath()
                                + (old == null || old.isBlank() ? "" : java.io.File.pathSeparator + old));
            }
            long t0 = System.nanoTime();
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new RlcdException(
                        "cannot run jupyter nbconvert (" + e.getMessage()
                                + "); install it with: apt-get install jupyter-nbconvert",
                        e);
            }
            if (!p.waitFor(timeoutSeconds + 60, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                throw new RlcdException(
                        "jupyter nbconvert: not done after " + timeoutSeconds + " s; " + html + " left as it was");
            }
            if (p.exitValue() != 0) { // nbconvert stops at the first cell that fails
                throw new RlcdException("jupyter nbconvert --execute failed (exit " + p.exitValue() + ", its output is"
                        + " above); is the kernel installed (rlcd kernel install --name " + name + ")? " + html
                        + " left as it was");
            }
            Path rendered = work.resolve("tutorial.html");
            Files.createDirectories(html.getParent());
            Files.copy(rendered, html, StandardCopyOption.REPLACE_EXISTING);
            System.out.printf(
                    "Wrote %s (%d KB), executed in %.0f s on kernel '%s'%n",
                    html, Files.size(html) / 1024, (System.nanoTime() - t0) / 1e9, name);
            return 0;
        } finally {
            KernelCommand.deleteTree(work);
        }
    }
}
