package rlcd4j.sandbox;

import rlcd4j.RlcdException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where the bundled sandbox base model lives: {@code datasets/sandbox/base-model} in the checkout (made by
 * {@code ./rlcd pretrain}; see its MADE.json).
 */
public final class SandboxBaseModel {
    private SandboxBaseModel() {}

    public static Path folder() {
        String home = System.getProperty("rlcd4j.home");
        Path root = home != null ? Paths.get(home) : Paths.get("").toAbsolutePath();
        for (Path dir = root; dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("datasets/sandbox/base-model");
            if (Files.exists(p.resolve("model.safetensors"))) return p;
        }
        throw new RlcdException("datasets/sandbox/base-model/model.safetensors: not found from " + root
                + "; run the demo from the rlcd4j checkout (./rlcd demo), or make the model with ./rlcd pretrain");
    }
}
