package rlcd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Paths of the read-only fixtures in ../shared (never copied into the project). */
public final class Fixtures {
    private Fixtures() {}

    public static Path shared() {
        String p = System.getProperty("rlcd4j.shared");
        Path dir = p != null ? Paths.get(p) : Paths.get("..", "shared");
        if (!Files.isDirectory(dir)) dir = Paths.get("..", "..", "shared");
        return dir.toAbsolutePath().normalize();
    }

    /** The 656K-parameter TinyStories LLaMA (GQA 8/4 heads, tied embeddings, fp32). */
    public static Path tinyStories() {
        return shared().resolve("models/TinyStories-656K");
    }

    public static Path hhHarmlessTest() {
        return shared().resolve("data/hh-rlhf/harmless-base/test.jsonl.gz");
    }
}
