package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
    @TempDir
    Path tmp;

    @Test
    void seedsBelowOneIsOneClearErrorBeforeAnyWork() {
        Path out = tmp.resolve("run");
        ErrorPolicyTest.Run r = ErrorPolicyTest.run("demo", "--seeds", "0", "--out", out.toString());
        assertEquals(Main.FAILED, r.code(), r.err());
        assertEquals(List.of("rlcd: --seeds 0: expected at least 1"), r.lines());
        assertFalse(Files.exists(out.resolve("seed-0")), "no seed was started");
    }
}
