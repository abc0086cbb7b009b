package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The CLI's one error policy (docs/cli.md): 2 for usage errors, 1 and one line for failures, traces on --debug. */
class ErrorPolicyTest {
    record Run(int code, String err) {
        List<String> lines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    static Run run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.run(args);
        } finally {
            System.setErr(old);
        }
        return new Run(code, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void everyCommandExitsTwoOnAnUnknownOption() {
        for (String name : new CommandLine(new Main()).getSubcommands().keySet()) {
            if (name.equals("help")) continue; // takes any words as command names
            Run r = run(name, "--no-such-option");
            assertEquals(Main.USAGE_ERROR, r.code(), name + ": " + r.err());
            assertTrue(r.err().contains("Usage: rlcd " + name), name + ": " + r.err());
        }
        assertEquals(Main.USAGE_ERROR, run("train-pm", "--out", "x").code(), "required options missing");
        assertEquals(
                Main.USAGE_ERROR,
                run("ppo", "--policy", "p", "--reward-model", "r", "--prompts", "q", "--out", "o", "--steps", "many")
                        .code(),
                "a number that does not parse");
    }

    @Test
    void badDataExitsOneWithOneLineAndNoStackTrace(@TempDir Path dir) throws IOException {
        Path pairs = dir.resolve("pairs.jsonl");
        Files.writeString(
                pairs,
                "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}\n{\"prompt\": \"a\", \"chosen\": \"b\"}\n");
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"a\"}\nnot json\n");
        Path outputs = dir.resolve("outputs.jsonl");
        Files.writeString(outputs, "{\"id\": \"1\"}\n");
        String model = dir.resolve("no-model").toString(),
                out = dir.resolve("out").toString();
        List<String[]> commands = List.of(
                new String[] {"train-pm", "--model", model, "--pairs", pairs.toString(), "--out", out},
                new String[] {"sft", "--model", model, "--data", pairs.toString(), "--out", out, "--seed", "1"},
                new String[] {"dpo", "--model", model, "--pairs", pairs.toString(), "--out", out},
                new String[] {
                    "ppo", "--policy", model, "--reward-model", model, "--prompts", prompts.toString(), "--out", out
                },
                new String[] {"decode", "--model", model, "--prompts", prompts.toString(), "--out", out, "--strict"},
                new String[] {"eval", "--a", outputs.toString(), "--b", outputs.toString(), "--out", out},
                new String[] {
                    "human-sheet",
                    "export",
                    "--a",
                    outputs.toString(),
                    "--b",
                    outputs.toString(),
                    "--html",
                    out,
                    "--key",
                    out
                });
        for (String[] command : commands) {
            Run r = run(command);
            String what = String.join(" ", command) + " -> " + r.err();
            assertEquals(Main.FAILED, r.code(), what);
            assertEquals(1, r.lines().size(), what);
            assertTrue(
                    r.err().startsWith("rlcd: ")
                            && r.err().contains(dir.getFileName().toString()),
                    what);
            assertFalse(r.err().contains("\tat "), what);
        }
        assertTrue(run(commands.get(0)).err().contains("pairs.jsonl:2: field \"rejected\" is missing"));
        assertTrue(run(commands.get(3)).err().contains("prompts.jsonl:2:"));
    }

    @Test
    void debugAddsTheStackTraceWhereverItIsGiven(@TempDir Path dir) throws IOException {
        Path pairs = dir.resolve("pairs.jsonl");
        Files.writeString(pairs, "{\"prompt\": \"a\", \"chosen\": \"b\"}\n{\"prompt\": \"a\"}\n");
        String[] command = {"train-pm", "--model", "m", "--pairs", pairs.toString(), "--out", dir.toString()};
        for (Run r : List.of(run(concat("--debug", command)), run(concat(command, "--debug")))) {
            assertEquals(Main.FAILED, r.code(), r.err());
            assertTrue(r.lines().get(0).startsWith("rlcd: " + pairs), r.err());
            assertTrue(r.err().contains("rlcd4j.util.RlcdException") && r.err().contains("\tat rlcd4j."), r.err());
        }
    }

    @Test
    void anUnexpectedFailureIsOneLineThatPointsToDebug() {
        StringWriter err = new StringWriter();
        assertEquals(Main.FAILED, Main.fail(new IllegalStateException("bug\nhere"), new PrintWriter(err), false));
        assertEquals(
                "rlcd: unexpected java.lang.IllegalStateException: bug here (--debug prints the stack trace)",
                err.toString().strip());
        err = new StringWriter();
        Main.fail(
                new IllegalStateException("wrapped", new rlcd4j.util.RlcdException("f.jsonl:3: bad")),
                new PrintWriter(err),
                false);
        assertEquals("rlcd: f.jsonl:3: bad", err.toString().strip(), "the project's error behind a wrapper");
    }

    /** Every command is reached through {@code rlcd}; no class of the toolkit but {@link Main} is a program of its own. */
    @Test
    void everyCommandIsRegisteredAndOnlyMainHasAMainMethod() throws Exception {
        Path classes = Path.of(
                Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> mains = new ArrayList<>();
        Set<Class<?>> commands = new HashSet<>();
        try (Stream<Path> files = Files.walk(classes.resolve("rlcd4j"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(f)
                        .toString()
                        .replace(f.getFileSystem().getSeparator(), ".")
                        .replaceAll("\\.class$", "");
                if (name.startsWith("rlcd4j.bench.")) continue; // benchmarks, run by bench/*.sh
                Class<?> c = Class.forName(name, false, Main.class.getClassLoader());
                if (c.isAnnotationPresent(Command.class) && c.getPackageName().equals("rlcd4j.cli")) commands.add(c);
                for (Method m : c.getDeclaredMethods()) {
                    if (m.getName().equals("main") && Modifier.isStatic(m.getModifiers())) mains.add(name);
                }
            }
        }
        assertEquals(List.of(Main.class.getName()), mains);
        Set<Class<?>> registered = new HashSet<>();
        collect(new CommandLine(new Main()), registered);
        commands.removeAll(registered);
        assertEquals(Set.of(), commands, "commands that rlcd does not list");
    }

    private static void collect(CommandLine cli, Set<Class<?>> into) {
        into.add(cli.getCommand().getClass());
        for (CommandLine sub : cli.getSubcommands().values()) collect(sub, into);
    }

    private static String[] concat(String first, String... rest) {
        return Stream.concat(Stream.of(first), Stream.of(rest)).toArray(String[]::new);
    }

    private static String[] concat(String[] first, String last) {
        return Stream.concat(Stream.of(first), Stream.of(last)).toArray(String[]::new);
    }
}
