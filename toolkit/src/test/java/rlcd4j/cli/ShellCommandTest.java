package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ShellCommandTest {
    @Test
    void jshellStartsWithToolkitImported() throws Exception {
        ShellCommand cmd = new ShellCommand();
        Path startup = cmd.writeStartup();
        try {
            Process p = new ProcessBuilder(cmd.command(startup))
                    .redirectErrorStream(true)
                    .start();
            p.getOutputStream()
                    .write(
                            ("System.out.println(\"seen \" + Progress.class.getName() + \" \" + Table.class.getSimpleName())\n/exit\n")
                                    .getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertTrue(out.contains("seen rlcd4j.progress.Progress Table"), out);
        } finally {
            Files.deleteIfExists(startup);
        }
    }
}
