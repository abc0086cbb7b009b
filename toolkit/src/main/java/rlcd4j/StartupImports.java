package rlcd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * The imports a notebook or {@code rlcd shell} session starts with, kept in one place for both.
 *
 * <p>An import of a package that does not exist is a compile error in JShell, and some toolkit packages appear only
 * as the toolkit grows, so {@link #available(ClassLoader)} keeps just the packages the class path really has.
 */
public final class StartupImports {
    /** Toolkit and library packages, imported with {@code .*} when present. */
    public static final List<String> PACKAGES = List.of(
            "rlcd4j",
            "rlcd4j.util",
            "rlcd4j.hub",
            "rlcd4j.engine",
            "rlcd4j.engine.llama",
            "rlcd4j.data",
            "rlcd4j.contrast",
            "rlcd4j.train",
            "rlcd4j.eval",
            "rlcd4j.plot",
            "rlcd4j.progress",
            "rlcd4j.sandbox",
            "tech.tablesaw.api",
            "tech.tablesaw.columns",
            "org.knowm.xchart",
            "org.knowm.xchart.style",
            "java.util",
            "java.util.stream",
            "java.util.function",
            "java.io",
            "java.nio.file",
            "java.time",
            "java.awt.image");

    private StartupImports() {}

    /** The packages of {@link #PACKAGES} that {@code loader} can see (JDK packages always). */
    public static List<String> available(ClassLoader loader) {
        List<String> out = new ArrayList<>();
        for (String pkg : PACKAGES) {
            if (pkg.startsWith("java.") || hasClasses(loader, pkg)) out.add(pkg);
        }
        return out;
    }

    /** True if some class path entry holds a class of {@code pkg} itself (a lone package-info does not count). */
    static boolean hasClasses(ClassLoader loader, String pkg) {
        String dir = pkg.replace('.', '/') + "/";
        try {
            for (URL url : Collections.list(loader.getResources(dir))) {
                if (url.getProtocol().equals("file")) {
                    try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
                        if (files.anyMatch(StartupImports::isClass)) return true;
                    }
                } else if (url.getProtocol().equals("jar")) {
                    JarURLConnection conn = (JarURLConnection) url.openConnection();
                    conn.setUseCaches(false);
                    try (var jar = conn.getJarFile()) {
                        boolean found = jar.stream()
                                .anyMatch(e -> e.getName().startsWith(dir)
                                        && e.getName().indexOf('/', dir.length()) < 0
                                        && isClass(Path.of(e.getName())));
                        if (found) return true;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return false;
    }

    private static boolean isClass(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".class") && !n.equals("package-info.class") && !n.equals("module-info.class");
    }

    /** {@code import p.*;} lines for the available packages. */
    public static List<String> importLines(ClassLoader loader) {
        return available(loader).stream().map(p -> "import " + p + ".*;").toList();
    }
}
