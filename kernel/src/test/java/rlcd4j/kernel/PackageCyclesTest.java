package rlcd4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import rlcd4j.Rlcd;
import rlcd4j.cli.KernelCommand;

/**
 * The package graph of the main classes (toolkit and kernel) has no cycles: arrows run one way, from the CLI and
 * kernel down to the engine and rlcd4j.util (docs/architecture.md). The graph comes from the JDK's jdeps over the
 * compiled classes, the same command the docs name, so a class-name string or an import used only in javadoc does not
 * count, while every type a class really uses does.
 */
class PackageCyclesTest {
    private static final Pattern EDGE = Pattern.compile("^\\s+(rlcd4j[\\w.$]*)\\s+->\\s+(rlcd4j[\\w.$]*)\\s");

    @Test
    void mainPackagesFormNoCycle() throws Exception {
        Map<String, Map<String, Set<String>>> graph = packageGraph(classes(Rlcd.class), classes(RlcdKernel.class));
        // rlcd kernel starts the kernel by its class name, an arrow that jdeps cannot see
        assertEquals(RlcdKernel.class.getName(), KernelCommand.MAIN_CLASS);
        graph.get("rlcd4j.cli")
                .computeIfAbsent("rlcd4j.kernel", k -> new TreeSet<>())
                .add("rlcd4j.cli.KernelCommand -> " + KernelCommand.MAIN_CLASS + " (by name)");
        assertTrue(
                graph.containsKey("rlcd4j.cli") && graph.containsKey("rlcd4j.kernel"),
                graph.keySet().toString());
        List<String> cycle = cycle(graph);
        if (!cycle.isEmpty()) fail("package cycle: " + describe(cycle, graph));
    }

    @Test
    void findsACycle() {
        Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
        graph.computeIfAbsent("a", k -> new TreeMap<>()).put("b", Set.of("a.X -> b.Y"));
        graph.computeIfAbsent("b", k -> new TreeMap<>()).put("c", Set.of("b.Y -> c.Z"));
        graph.computeIfAbsent("c", k -> new TreeMap<>()).put("a", Set.of("c.Z -> a.X"));
        assertTrue(describe(cycle(graph), graph).startsWith("a -> b -> c -> a"));
        graph.get("c").clear();
        assertTrue(cycle(graph).isEmpty());
    }

    private static Path classes(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** Package to package it uses to the class-level arrows behind that use, from {@code jdeps -verbose:class}. */
    static Map<String, Map<String, Set<String>>> packageGraph(Path... classFolders) {
        ToolProvider jdeps =
                ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("no jdeps in this JDK"));
        List<String> args = new ArrayList<>(List.of("-verbose:class", "-e", "rlcd4j(\\..*)?"));
        for (Path p : classFolders) args.add(p.toString());
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = jdeps.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        if (code != 0) throw new AssertionError("jdeps " + args + " failed (" + code + "): " + err);
        Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
        for (String line : out.toString().split("\n")) {
            Matcher m = EDGE.matcher(line);
            if (!m.find()) continue;
            String from = packageOf(m.group(1)), to = packageOf(m.group(2));
            graph.computeIfAbsent(from, k -> new TreeMap<>());
            if (!from.equals(to)) {
                graph.get(from).computeIfAbsent(to, k -> new TreeSet<>()).add(m.group(1) + " -> " + m.group(2));
            }
        }
        return graph;
    }

    private static String packageOf(String className) {
        int dot = className.lastIndexOf('.');
        return dot < 0 ? "" : className.substring(0, dot);
    }

    /** One cycle as a path that starts and ends at the same package, or an empty list when the graph has none. */
    static List<String> cycle(Map<String, Map<String, Set<String>>> graph) {
        Map<String, Integer> state = new HashMap<>(); // absent: unseen, 1: on the current path, 2: done
        for (String start : graph.keySet()) {
            if (state.containsKey(start)) continue;
            Deque<String> path = new ArrayDeque<>();
            List<String> found = visit(start, graph, state, path);
            if (!found.isEmpty()) return found;
        }
        return List.of();
    }

    private static List<String> visit(
            String pkg, Map<String, Map<String, Set<String>>> graph, Map<String, Integer> state, Deque<String> path) {
        state.put(pkg, 1);
        path.addLast(pkg);
        for (String next : graph.getOrDefault(pkg, Map.of()).keySet()) {
            Integer s = state.get(next);
            if (s == null) {
                List<String> found = visit(next, graph, state, path);
                if (!found.isEmpty()) return found;
            } else if (s == 1) {
                List<String> onPath = new ArrayList<>(path);
                List<String> cycle = new ArrayList<>(onPath.subList(onPath.indexOf(next), onPath.size()));
                cycle.add(next);
                return cycle;
            }
        }
        path.removeLast();
        state.put(pkg, 2);
        return List.of();
    }

    private static String describe(List<String> cycle, Map<String, Map<String, Set<String>>> graph) {
        StringBuilder sb = new StringBuilder(String.join(" -> ", cycle));
        for (int i = 0; i + 1 < cycle.size(); i++) {
            sb.append("\n  ")
                    .append(cycle.get(i))
                    .append(" -> ")
                    .append(cycle.get(i + 1))
                    .append(" because ")
                    .append(graph.get(cycle.get(i)).get(cycle.get(i + 1)));
        }
        return sb.toString();
    }
}
