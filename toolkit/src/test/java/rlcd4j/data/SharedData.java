package rlcd4j.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the read-only reference data is (../shared, via the rlcd4j.shared system property Surefire sets). */
public final class SharedData {
    private SharedData() {}

    public static Path root() {
        String p = System.getProperty("rlcd4j.shared");
        if (p != null && Files.isDirectory(Path.of(p))) return Path.of(p);
        Path rootProp = Path.of(System.getProperty("rlcd4j.root", ".")).toAbsolutePath();
        for (Path d = rootProp; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("../shared/data")))
                return d.resolve("../shared").normalize();
        }
        throw new IllegalStateException("cannot find ../shared (set -Drlcd4j.shared)");
    }

    /** HH-RLHF harmless-base test (2312 rows, MIT, Anthropic). */
    public static Path harmlessTest() {
        return root().resolve("data/hh-rlhf/harmless-base/test.jsonl.gz");
    }
}
