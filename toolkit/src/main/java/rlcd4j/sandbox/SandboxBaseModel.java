package rlcd4j.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import rlcd4j.data.DataFiles;
import rlcd4j.util.RlcdException;

/**
 * Where the bundled sandbox base model lives: {@code datasets/sandbox/base-model} in the checkout (made by
 * {@code ./rlcd pretrain}; see its MADE.json), in the folder {@code rlcd kernel install} copied it to, or, with
 * neither, in the toolkit jar (extracted once to a cache folder, {@link DataFiles#bundledRoot()}).
 */
public final class SandboxBaseModel {
    private SandboxBaseModel() {}

    /**
     * The model folder at or above the working directory (a checkout, for a notebook in it), else at or above
     * {@code -Drlcd4j.home} (an installed kernel passes its install folder, so notebooks in any folder find it), else
     * the one the toolkit jar bundles (a program that only depends on the jar).
     */
    public static Path folder() {
        Path workingDir = Paths.get("").toAbsolutePath();
        String homeProperty = System.getProperty("rlcd4j.home");
        Path found = onDisk(workingDir, homeProperty);
        if (found != null) return found;
        Path bundled = DataFiles.bundledRoot();
        if (bundled != null && Files.exists(bundled.resolve("sandbox/base-model/model.safetensors"))) {
            return bundled.resolve("sandbox/base-model");
        }
        throw notFound(workingDir, homeProperty);
    }

    /** As {@link #folder()}, on disk only. */
    static Path folder(Path workingDir, String homeProperty) {
        Path found = onDisk(workingDir, homeProperty);
        if (found != null) return found;
        throw notFound(workingDir, homeProperty);
    }

    private static Path onDisk(Path workingDir, String homeProperty) {
        Path found = above(workingDir);
        if (found == null && homeProperty != null && !homeProperty.isBlank()) {
            found = above(Paths.get(homeProperty).toAbsolutePath());
        }
        return found;
    }

    private static RlcdException notFound(Path workingDir, String homeProperty) {
        return new RlcdException("datasets/sandbox/base-model/model.safetensors: not found from " + workingDir
                + (homeProperty != null ? " nor from -Drlcd4j.home=" + homeProperty : "")
                + "; run from the rlcd4j checkout (./rlcd demo), install the notebook kernel with"
                + " ./rlcd kernel install, or make the model with ./rlcd pretrain");
    }

    private static Path above(Path start) {
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("datasets/sandbox/base-model");
            if (Files.exists(p.resolve("model.safetensors"))) return p;
        }
        return null;
    }
}
