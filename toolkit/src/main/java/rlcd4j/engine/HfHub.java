package rlcd4j.engine;

import rlcd4j.RlcdException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

/**
 * Where models (and datasets) come from: a local folder, the Hugging Face cache that Python users already have
 * ({@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}; layout
 * {@code models--org--name/snapshots/REV/}), so nothing is downloaded twice.
 */
public final class HfHub {
    private final Path cacheDir;
    private final boolean offline;

    public HfHub(Path cacheDir, boolean offline) {
        this.cacheDir = cacheDir;
        this.offline = offline;
    }

    /** Settings from the environment, as huggingface_hub reads them. */
    public static HfHub fromEnvironment() {
        Map<String, String> env = System.getenv();
        Path cache;
        if (env.get("HF_HUB_CACHE") != null) cache = Paths.get(env.get("HF_HUB_CACHE"));
        else if (env.get("HF_HOME") != null) cache = Paths.get(env.get("HF_HOME"), "hub");
        else cache = Paths.get(System.getProperty("user.home"), ".cache", "huggingface", "hub");
        String off = env.getOrDefault("HF_HUB_OFFLINE", "");
        return new HfHub(cache, off.equals("1") || off.equalsIgnoreCase("true"));
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /**
     * A model folder for {@code nameOrPath}: the folder itself if it exists, else the cached snapshot of the repo at
     * {@code revision} (null: {@code main}).
     */
    public Path resolveModel(String nameOrPath, String revision) {
        Path local = Paths.get(nameOrPath);
        if (Files.isDirectory(local)) return local;
        if (!nameOrPath.matches("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")) {
            throw new RlcdException(nameOrPath + ": no such folder, and not a Hugging Face repo id (expected org/name)");
        }
        Path cached = cachedSnapshot("model", nameOrPath, revision == null ? "main" : revision);
        if (cached != null) return cached;
        throw new RlcdException(nameOrPath + ": not a local folder and not in the Hugging Face cache at " + cacheDir
                + (offline ? " (HF_HUB_OFFLINE=1)" : ""));
    }

    /** The snapshot folder of a cached repo at a revision (branch, tag or commit), or null. */
    public Path cachedSnapshot(String repoType, String repoId, String revision) {
        Path repo = cacheDir.resolve(repoType + "s--" + repoId.replace("/", "--"));
        String commit = revision;
        Path ref = repo.resolve("refs").resolve(revision);
        try {
            if (Files.isRegularFile(ref)) commit = Files.readString(ref).trim();
        } catch (IOException e) {
            throw new RlcdException(ref + ": cannot read: " + e.getMessage(), e);
        }
        Path snap = repo.resolve("snapshots").resolve(commit);
        return Files.isDirectory(snap) ? snap : null;
    }
}
