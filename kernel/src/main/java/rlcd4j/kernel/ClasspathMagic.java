package rlcd4j.kernel;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import rlcd4j.util.RlcdException;

/**
 * {@code %classpath lib/*.jar build/classes} and IJava's {@code %jars}: adds jars or class directories (globs allowed,
 * relative to the kernel's working directory) to the running notebook.
 */
final class ClasspathMagic {
    private ClasspathMagic() {}

    /** Resolves every argument; a pattern that matches nothing is an error naming it. */
    static List<Path> resolve(List<String> args, Path base) {
        if (args.isEmpty())
            throw new RlcdException(
                    "%classpath: give one or more jars, directories or globs, e.g. %classpath lib/*.jar");
        List<Path> out = new ArrayList<>();
        for (String arg : args) {
            for (String part : arg.split(java.io.File.pathSeparator)) {
                if (part.isBlank()) continue;
                List<Path> found = glob(part, base);
                if (found.isEmpty())
                    throw new RlcdException(
                            "%classpath: nothing matches '" + part + "' (from " + base.toAbsolutePath() + ")");
                out.addAll(found);
            }
        }
        return out;
    }

    private static List<Path> glob(String pattern, Path base) {
        String p = pattern.startsWith("~/") ? System.getProperty("user.home") + pattern.substring(1) : pattern;
        if (!p.contains("*") && !p.contains("?") && !p.contains("[") && !p.contains("{")) {
            Path path = base.resolve(p).normalize();
            return Files.exists(path) ? List.of(path) : List.of();
        }
        // Walk from the longest directory prefix without wildcards.
        Path abs = base.resolve(p).normalize();
        Path root = abs.getRoot() == null ? base : abs.getRoot();
        Path dir = root;
        for (Path seg : abs) {
            String s = seg.toString();
            if (s.contains("*") || s.contains("?") || s.contains("[") || s.contains("{")) break;
            dir = dir.resolve(s);
        }
        PathMatcher matcher =
                FileSystems.getDefault().getPathMatcher("glob:" + abs.toString().replace("\\", "\\\\"));
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(matcher::matches).sorted().toList();
        } catch (IOException e) {
            throw new RlcdException("%classpath: cannot list " + dir + ": " + e.getMessage(), e);
        }
    }
}
