package rlcd4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StartupImportsTest {
    @Test
    void startupImportsSkipPackagesThatDoNotExist() {
        List<String> pkgs = StartupImports.available(getClass().getClassLoader());
        assertTrue(pkgs.contains("rlcd4j.progress"), pkgs.toString());
        assertTrue(pkgs.contains("tech.tablesaw.api"), pkgs.toString());
        assertTrue(!pkgs.contains("rlcd4j.nosuchpackage"));
        for (String p : pkgs) {
            if (p.startsWith("java.")) continue;
            assertTrue(StartupImports.hasClasses(getClass().getClassLoader(), p), p);
        }
    }
}
