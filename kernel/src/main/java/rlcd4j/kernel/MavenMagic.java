package rlcd4j.kernel;

import rlcd4j.RlcdException;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code %maven group:artifact:version ...}: resolves the artifacts and their runtime dependencies from Maven Central
 * by running the {@code mvn} command (no resolver library inside the kernel) into a cache directory, then returns
 * the jars. Without {@code mvn} or without network it fails with one clear line.
 */
final class MavenMagic {
    /** Pinned so that resolution works offline once the plugin is in the local repository. */
    static final String DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";
    private static final long TIMEOUT_MINUTES = 10;

    private MavenMagic() {
    }

    static List<Path> resolve(List<String> coordinates, Path cacheRoot, boolean offline) {
        if (coordinates.isEmpty()) throw new RlcdException("%maven: give coordinates group:artifact:version, e.g. %maven org.apache.commons:commons-math3:3.6.1");
        StringBuilder deps = new StringBuilder();
        for (String c : coordinates) {
            String[] p = c.split(":");
            if (p.length < 3 || p.length > 5 || Stream.of(p).anyMatch(String::isBlank)) {
                throw new RlcdException("%maven: '" + c + "' is not group:artifact:version (or group:artifact:type:classifier:version)");
            }
            deps.append("<dependency><groupId>").append(p[0]).append("</groupId><artifactId>").append(p[1]).append("</artifactId>");
            if (p.length == 3) deps.append("<version>").append(p[2]).append("</version>");
            if (p.length == 4) deps.append("<type>").append(p[2]).append("</type><version>").append(p[3]).append("</version>");
            if (p.length == 5) deps.append("<type>").append(p[2]).append("</type><classifier>").append(p[3])
                    .append("</classifier><version>").append(p[4]).append("</version>");
            deps.append("</dependency>");
        }
        String mvn = findMvn();
        if (mvn == null) {
            throw new RlcdException("%maven needs the 'mvn' command on PATH (or MAVEN_HOME); without it, download the jars and use %classpath");
        }
        String key = Integer.toHexString(String.join(" ", coordinates).hashCode());
        Path work = cacheRoot.resolve(key);
        Path lib = work.resolve("lib");
        try {
            Files.createDirectories(work);
            Files.writeString(work.resolve("pom.xml"), "<project><modelVersion>4.0.0</modelVersion><groupId>rlcd4j.notebook</groupId>"
                    + "<artifactId>maven-magic</artifactId><version>0</version><packaging>pom</packaging><dependencies>"
                    + deps + "</dependencies></project>\n", StandardCharsets.UTF_8);
            List<String> cmd = new java.util.ArrayList<>(List.of(mvn, "-B", "-q"));
            if (offline) cmd.add("-o");
            cmd.addAll(List.of("-f", work.resolve("pom.xml").toString(), DEPENDENCY_PLUGIN + ":copy-dependencies",
                    "-DincludeScope=runtime", "-DoutputDirectory=" + lib));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.redirectErrorStream(true);
            Path log = work.resolve("mvn.log");
            pb.redirectOutput(log.toFile());
            Process proc = pb.start();
            if (!proc.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                proc.destroyForcibly();
                throw new RlcdException("%maven: mvn did not finish in " + TIMEOUT_MINUTES + " minutes (log: " + log + ")");
            }
            if (proc.exitValue() != 0) throw new RlcdException("%maven: could not resolve " + String.join(" ", coordinates)
                    + " (" + reason(Files.readString(log)) + "; log: " + log + ")");
            try (Stream<Path> jars = Files.list(lib)) {
                return jars.filter(f -> f.toString().endsWith(".jar")).sorted().toList();
            }
        } catch (IOException e) {
            throw new RlcdException("%maven: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CellInterrupted();
        }
    }

    /** The one line of Maven's output that says why, e.g. offline or artifact not found. */
    static String reason(String log) {
        String lower = log.toLowerCase(Locale.ROOT);
        if (lower.contains("unknownhostexception") || lower.contains("connect timed out") || lower.contains("network is unreachable")
                || lower.contains("connection refused") || lower.contains("offline mode")) {
            return "Maven Central is not reachable from here (offline?)";
        }
        for (String line : log.split("\\R")) {
            if (line.contains("[ERROR]") && line.contains("ould not")) return line.replace("[ERROR]", "").strip();
        }
        for (String line : log.split("\\R")) {
            if (line.contains("[ERROR]")) return line.replace("[ERROR]", "").strip();
        }
        return "mvn failed";
    }

    static String findMvn() {
        String home = System.getenv("MAVEN_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "mvn"))) return Path.of(home, "bin", "mvn").toString();
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, "mvn");
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }
}
