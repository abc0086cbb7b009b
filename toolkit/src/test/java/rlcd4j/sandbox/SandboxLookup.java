package rlcd4j.sandbox;

import java.nio.file.Path;

/** Opens {@link SandboxBaseModel}'s lookup with a given working directory to tests in other packages. */
public final class SandboxLookup {
    private SandboxLookup() {}

    public static Path folder(Path workingDir, String homeProperty) {
        return SandboxBaseModel.folder(workingDir, homeProperty);
    }
}
