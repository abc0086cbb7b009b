package rlcd4j.util;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The project's version as Maven built it, so the CLI, the kernel, caches and the pom cannot disagree. */
public final class BuildVersion {
    private static final String RESOURCE = "/rlcd4j/version.properties";

    private BuildVersion() {}

    /** The version from the resource Maven filters at build time (toolkit/pom.xml). */
    public static String get() {
        try (InputStream in = BuildVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new RlcdException(RESOURCE + " is not on the class path: build rlcd4j with ./mvnw");
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "");
            if (version.isBlank() || version.contains("${")) {
                throw new RlcdException(RESOURCE + ": expected the build's version, found '" + version
                        + "' (the resource was not filtered by Maven)");
            }
            return version.strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
