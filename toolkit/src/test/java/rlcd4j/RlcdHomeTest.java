package rlcd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.sandbox.SandboxLookup;
import rlcd4j.util.RlcdException;

/** Where notebooks find the bundled data: a checkout they run in, else the kernel's install folder. */
class RlcdHomeTest {
    static Path install(Path dir) throws Exception {
        Path home = Files.createDirectories(dir.resolve("kernels/rlcd-java/rlcd4j-1.0"));
        Files.createDirectories(home.resolve("datasets/sandbox/base-model"));
        Files.writeString(home.resolve("datasets/sandbox/base-model/model.safetensors"), "w");
        Files.writeString(home.resolve(Rlcd.INSTALL_MARKER), "{}");
        return home;
    }

    static Path checkout(Path dir) throws Exception {
        Path root = Files.createDirectories(dir.resolve("checkout"));
        Files.writeString(root.resolve("pom.xml"), "<project/>");
        Files.createDirectories(root.resolve("datasets/sandbox/base-model"));
        Files.writeString(root.resolve("datasets/sandbox/base-model/model.safetensors"), "w");
        Files.createDirectories(root.resolve("notebooks"));
        return root;
    }

    @Test
    void aNotebookOutsideAnyCheckoutFindsTheInstalledKernelsData(@TempDir Path dir) throws Exception {
        Path home = install(dir);
        Path elsewhere = Files.createDirectories(dir.resolve("somewhere/else"));
        assertEquals(home, Rlcd.home(elsewhere, home.toString()));
        assertEquals(home.resolve("datasets/sandbox/base-model"), SandboxLookup.folder(elsewhere, home.toString()));
        assertEquals(
                elsewhere.resolve("runs/tutorial"),
                Rlcd.runDir(elsewhere, home.toString(), "tutorial"),
                "runs beside the notebook, not in the install folder");
    }

    @Test
    void aNotebookInACheckoutUsesThatCheckout(@TempDir Path dir) throws Exception {
        Path home = install(dir);
        Path root = checkout(dir);
        assertEquals(root, Rlcd.home(root.resolve("notebooks"), home.toString()));
        assertEquals(
                root.resolve("datasets/sandbox/base-model"),
                SandboxLookup.folder(root.resolve("notebooks"), home.toString()));
        assertEquals(root.resolve("runs/x"), Rlcd.runDir(root.resolve("notebooks"), home.toString(), "x"));
    }

    @Test
    void nothingFoundIsOneClearError(@TempDir Path dir) {
        RlcdException e = assertThrows(
                RlcdException.class, () -> Rlcd.home(dir, dir.resolve("gone").toString()));
        assertTrue(
                e.getMessage().contains("not inside an rlcd4j checkout or kernel install")
                        && e.getMessage().contains("./rlcd kernel install"),
                e.getMessage());
        RlcdException m = assertThrows(RlcdException.class, () -> SandboxLookup.folder(dir, null));
        assertTrue(m.getMessage().contains("model.safetensors: not found from " + dir), m.getMessage());
    }
}
