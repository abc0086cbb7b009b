package rlcd4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import rlcd4j.RlcdException;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelCommandTest {
    @Test
    void installWritesKernelJsonUnderJupyterPath(@TempDir Path dir) throws Exception {
        int code = new CommandLine(new KernelCommand()).execute("install", "--jupyter-path", dir.toString(),
                "--name", "rlcd-test", "--classpath", "/a/k.jar:/b/dep.jar", "--jvm-opt=-Xmx2g");
        assertEquals(0, code);
        String json = Files.readString(dir.resolve("kernels/rlcd-test/kernel.json"));
        assertTrue(json.contains("\"-Dai.djl.offline=true\""), json);
        assertTrue(json.contains("\"-Djava.awt.headless=true\""), json);
        assertTrue(json.contains("\"-Drlcd4j.mklIntelPath=true\""), "the project's kernel opts in: " + json);
        assertTrue(json.contains("\"-Xmx2g\""), json);
        assertTrue(json.contains("\"/a/k.jar:/b/dep.jar\""), json);
        assertTrue(json.contains("\"rlcd4j.kernel.RlcdKernel\",\n    \"{connection_file}\""), json);
        assertTrue(json.contains("\"interrupt_mode\": \"message\""), json);
        assertTrue(json.contains("\"language\": \"java\""), json);
    }

    @Test
    void prefixInstallsUnderShareJupyter(@TempDir Path dir) {
        int code = new CommandLine(new KernelCommand()).execute("install", "--prefix", dir.toString(), "--classpath", "x.jar");
        assertEquals(0, code);
        assertTrue(Files.isRegularFile(dir.resolve("share/jupyter/kernels/rlcd-java/kernel.json")));
    }

    @Test
    void targetsAreExclusive(@TempDir Path dir) {
        int code = new CommandLine(new KernelCommand()).execute("install", "--user", "--prefix", dir.toString(), "--classpath", "x.jar");
        assertEquals(2, code);
    }

    @Test
    void missingBuildIsOneClearError(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("kernel/target"));
        RlcdException e = assertThrows(RlcdException.class, () -> KernelCommand.classpathFromBuild(root));
        assertTrue(e.getMessage().contains("classpath.txt: not found; build the kernel first"), e.getMessage());
    }

    @Test
    void classpathFromBuildJoinsKernelJarAndDependencies(@TempDir Path root) throws Exception {
        Path target = Files.createDirectories(root.resolve("kernel/target"));
        Files.writeString(target.resolve("classpath.txt"), "/d/one.jar:/d/two.jar\n");
        Files.writeString(target.resolve("rlcd4j-kernel-0.1.0-SNAPSHOT.jar"), "");
        assertEquals(target.resolve("rlcd4j-kernel-0.1.0-SNAPSHOT.jar") + ":/d/one.jar:/d/two.jar",
                KernelCommand.classpathFromBuild(root));
    }
}
