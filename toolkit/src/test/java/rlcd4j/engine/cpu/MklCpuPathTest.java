package rlcd4j.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link MklCpuPath} in fresh JVMs (MKL fixes its code path at its first call, so this JVM's is long chosen): on a
 * CPU not made by Intel, the opt-in ({@code -Drlcd4j.mklIntelPath=true}, which the test JVM has, as the launcher)
 * must move MKL off its generic path; without it, or with {@code =false}, nothing is written and MKL stays on it.
 * Both give the same products to rounding.
 */
class MklCpuPathTest {

    @Test
    void nonIntelCpuGetsTheFeaturePathAndTheOptOutKeepsTheGenericOne() throws Exception {
        assumeTrue(
                System.getProperty("os.name").startsWith("Linux")
                        && System.getProperty("os.arch").equals("amd64"),
                "MKL's variables are Linux x86-64 only");
        String vendor = vendor();

        Map<String, String> on = child("true"), off = child("false");
        if (vendor.equals("GenuineIntel")) {
            assertEquals("MKL path chosen by MKL (Intel CPU)", on.get("STATUS"));
        } else {
            assertEquals(
                    "MKL path chosen by the CPU's features (CPU vendor " + vendor + ", set by MklCpuPath)",
                    on.get("STATUS"));
            assertEquals("MKL path unchanged (-Drlcd4j.mklIntelPath=false)", off.get("STATUS"));
            assertEquals(
                    "-1 0", off.get("PATH"), "without it MKL takes its generic path 0 on this CPU, at its first call");
            String[] path = on.get("PATH").split(" ");
            assertEquals("-1", path[0], "set before MKL's first call");
            assertTrue(Integer.parseInt(path[1]) > 0, "MKL chose a path by the CPU's features: " + on.get("PATH"));
        }
        float[] a = floats(on.get("VALUES")), b = floats(off.get("VALUES"));
        assertEquals(96 * 16, a.length);
        for (int i = 0; i < a.length; i++)
            assertEquals(b[i], a[i], 1e-4f * Math.max(1f, Math.abs(b[i])), "product element " + i);
    }

    @Test
    void withoutThePropertyNothingIsRewritten() throws Exception {
        // A library embedded in someone else's JVM leaves MKL alone unless asked (-Drlcd4j.mklIntelPath=true).
        Map<String, String> unset = child(null);
        assertEquals("MKL path unchanged (off unless -D" + MklCpuPath.PROPERTY + "=true)", unset.get("STATUS"));
        assumeTrue(linuxX86(), "MKL's variables are Linux x86-64 only");
        if (!vendor().equals("GenuineIntel")) {
            assertEquals("-1 0", unset.get("PATH"), "MKL detected the CPU itself: generic path 0, at its first call");
        }
    }

    @Test
    void thisTestJvmRunsOnTheSamePathAsTheCli() throws IOException {
        String first = MklCpuPath.apply();
        assertEquals(first, MklCpuPath.apply(), "applied once");
        assertEquals(first, MklCpuPath.status());
        assertTrue(first.startsWith("MKL path "), first);
        assumeTrue(
                System.getProperty("os.name").startsWith("Linux")
                        && System.getProperty("os.arch").equals("amd64"),
                "MKL's variables are Linux x86-64 only");
        if (!vendor().equals("GenuineIntel")) {
            // MklCpuPathExtension applied it before any test's first matrix product
            assertEquals(
                    "MKL path chosen by the CPU's features (CPU vendor " + vendor() + ", set by MklCpuPath)", first);
            try (NDManager m = NDManager.newBaseManager()) {
                m.ones(new Shape(8, 8)).matMul(m.ones(new Shape(8, 8))).getFloat(0, 0); // MKL has chosen by now
            }
            assertTrue(MklCpuPath.codePath() > 0, "path " + MklCpuPath.codePath());
        }
    }

    private static boolean linuxX86() {
        return System.getProperty("os.name").startsWith("Linux")
                && System.getProperty("os.arch").equals("amd64");
    }

    private static String vendor() throws IOException {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("vendor_id"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim())
                .findFirst()
                .orElse("");
    }

    /** Runs {@link MklCpuPathChild} with {@code -Drlcd4j.mklIntelPath=value}, or without the property when null. */
    private static Map<String, String> child(String value) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-Dai.djl.offline=true"));
        if (value != null) cmd.add("-D" + MklCpuPath.PROPERTY + "=" + value);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MklCpuPathChild.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        assertEquals(0, p.exitValue(), out);
        Map<String, String> lines = new HashMap<>();
        for (String line : out.split("\n")) {
            int space = line.indexOf(' ');
            if (space > 0 && List.of("STATUS", "PATH", "VALUES").contains(line.substring(0, space)))
                lines.put(line.substring(0, space), line.substring(space + 1).trim());
        }
        assertEquals(3, lines.size(), out);
        return lines;
    }

    private static float[] floats(String csv) {
        String[] parts = csv.split(",");
        float[] f = new float[parts.length];
        for (int i = 0; i < parts.length; i++) f[i] = Float.parseFloat(parts[i]);
        return f;
    }
}
