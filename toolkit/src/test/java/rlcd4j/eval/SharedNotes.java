package rlcd4j.eval;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the read-only reference notes (system property {@code rlcd4j.shared}, else {@code ../shared} from the repo root). */
final class SharedNotes {
    private SharedNotes() {}

    static Path reference() {
        String p = System.getProperty("rlcd4j.shared");
        Path dir = p != null ? Path.of(p) : Path.of("..", "..", "shared");
        Path f = dir.resolve("notes/rlcd-reference.md");
        if (!Files.exists(f)) f = Path.of("..", "shared", "notes", "rlcd-reference.md");
        return f;
    }
}
