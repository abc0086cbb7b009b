package rlcd4j;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
