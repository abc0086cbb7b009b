package rlcd4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.util.RlcdException;

/** Bad input to the magics: one clear line each, naming what is wrong. */
class MagicInputTest {
    private static void oneLine(RlcdException e, String... parts) {
        String m = e.getMessage();
        assertEquals(1, m.lines().count(), m);
        for (String p : parts) assertTrue(m.contains(p), "'" + p + "' in: " + m);
    }

    @Test
    void malformedPomInLoadFromPom() {
        String body = "<dependency>\n  <groupId>org.example</groupId>\n  <artifactId>x</artifactId>\n"
                + "  <version>1</version>\n</dependncy>\n";
        oneLine(
                assertThrows(RlcdException.class, () -> MavenMagic.pomFromCell(body)),
                "%%loadFromPOM",
                "not well-formed XML",
                "line 5");
        oneLine(
                assertThrows(RlcdException.class, () -> MavenMagic.pomFromCell("<repository><id>r</id></repository>")),
                "%%loadFromPOM",
                "no <dependency>");
    }

    @Test
    void loadFromPomBuildsAPomFromLooseElements() {
        String pom = MavenMagic.pomFromCell(
                "<repository>\n <id>snap</id>\n <url>https://repo.example.org/s/</url>\n</repository>\n"
                        + "<dependencies><dependency><groupId>g</groupId><artifactId>a</artifactId><version>1</version></dependency>"
                        + "</dependencies>\n<dependency><groupId>g2</groupId><artifactId>b</artifactId><version>2</version></dependency>");
        assertTrue(pom.startsWith("<project>"), pom);
        assertTrue(pom.contains("<repositories><repository>") && pom.contains("<id>snap</id>"), pom);
        assertTrue(pom.contains("<artifactId>a</artifactId>") && pom.contains("<artifactId>b</artifactId>"), pom);
        String whole = "<?xml version=\"1.0\"?>\n<project><modelVersion>4.0.0</modelVersion></project>";
        assertEquals(whole.strip() + "\n", MavenMagic.pomFromCell(whole));
    }

    @Test
    void unknownRepository() {
        oneLine(
                assertThrows(RlcdException.class, () -> MavenMagic.repository(List.of("snapshots"), List.of())),
                "%mavenRepo",
                "unknown repository 'snapshots'",
                "URL");
        oneLine(
                assertThrows(RlcdException.class, () -> MavenMagic.repository(List.of("r", "not a url"), List.of())),
                "%mavenRepo",
                "'not a url' is not a repository URL");
        oneLine(
                assertThrows(
                        RlcdException.class, () -> MavenMagic.repository(List.of("r", "ftp://x.org/m2"), List.of())),
                "is not a repository URL");
        MavenMagic.Repository r = MavenMagic.repository(List.of("snap", "https://repo.example.org/s/"), List.of());
        assertEquals(r, MavenMagic.repository(List.of("snap"), List.of(r)));
    }

    @Test
    void missingJar(@TempDir Path dir) {
        oneLine(
                assertThrows(RlcdException.class, () -> ClasspathMagic.resolve(List.of("lib/missing.jar"), dir)),
                "%classpath",
                "nothing matches 'lib/missing.jar'");
        oneLine(
                assertThrows(RlcdException.class, () -> MavenMagic.pomFromFile(dir.resolve("pom.xml"))),
                "%loadFromPOM",
                "no such file");
    }

    @Test
    void unresolvableArtifactOffline(@TempDir Path cache) {
        RlcdException e = assertThrows(
                RlcdException.class,
                () -> MavenMagic.resolve(List.of("org.example.nosuch:nothing-here:0.0.1"), List.of(), cache, true));
        if (MavenMagic.findMvn() == null) {
            oneLine(e, "%maven needs the 'mvn' command");
        } else {
            oneLine(
                    e,
                    "%maven: could not resolve org.example.nosuch:nothing-here:0.0.1",
                    "not in the local Maven repository, and offline mode is on");
        }
    }
}
