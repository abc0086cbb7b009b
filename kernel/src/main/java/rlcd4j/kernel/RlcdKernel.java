package rlcd4j.kernel;

import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseKernelBuilder;
import org.dflib.jjava.jupyter.kernel.HelpLink;
import org.dflib.jjava.jupyter.kernel.JupyterIO;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.comm.CommManager;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.history.HistoryManager;
import org.dflib.jjava.jupyter.kernel.magic.MagicParser;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.dflib.jjava.jupyter.kernel.util.StringStyler;
import org.dflib.jjava.jupyter.messages.Header;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.reply.KernelInfoReply;
import org.dflib.jjava.jupyter.messages.request.KernelInfoRequest;
import rlcd4j.cli.StartupImports;
import rlcd4j.kernel.display.RlcdDisplayExtension;

import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * The rlcd4j Jupyter kernel: Java cells evaluated by JShell inside this JVM, with the toolkit on the class path and
 * imported, Tablesaw/XChart display, toolkit progress as live lines, and the IJava magics.
 *
 * <p>Protocol, signing, display and magics come from jjava-jupyter; evaluation is {@link CellEvaluator}. JShell is
 * built on a background thread while the kernel answers the front end's handshake, so the kernel is ready to talk
 * before JShell has warmed up; the first cell waits for it.
 *
 * <p>Run as {@code java -cp ... rlcd4j.kernel.RlcdKernel <connection-file>} (what {@code rlcd kernel install} writes).
 */
public final class RlcdKernel extends BaseKernel {
    public static final String VERSION = "0.1.0";
    private final CompletableFuture<CellEvaluator> evaluator;

    private RlcdKernel(String name, String version, JupyterIO io, CommManager comms, Renderer renderer,
                       MagicParser magicParser, MagicsRegistry magics, boolean extensionsEnabled,
                       StringStyler errorStyler, HistoryManager history) {
        super(name, version,
                new LanguageInfo("java", Runtime.version().toString(), "text/x-java-source", ".jshell", "java", "java", null),
                List.of(new HelpLink("rlcd4j kernel", "https://github.com/rlcd4j/rlcd4j/blob/main/docs/kernel.md"),
                        new HelpLink("Java API", "https://docs.oracle.com/en/java/javase/17/docs/api/")),
                history, io, comms, renderer, magicParser, magics, extensionsEnabled, errorStyler);
        this.evaluator = CompletableFuture.supplyAsync(RlcdKernel::startJShell);
        registerMagics();
    }

    private static CellEvaluator startJShell() {
        List<String> cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.isBlank()).collect(Collectors.toList());
        List<String> imports = new ArrayList<>(StartupImports.importLines(RlcdKernel.class.getClassLoader()));
        imports.add("import static rlcd4j.kernel.Notebook.*;");
        CellEvaluator ev = new CellEvaluator(cp, imports);
        // Warm javac and the snippet path up while the user opens the notebook: the first real cell then takes
        // tens of milliseconds instead of several hundred. Expressions only, so no names are left behind.
        for (int i = 0; i < 3; i++) {
            try {
                ev.eval("1 + 1");
                ev.eval("\"warm\".length() + java.util.List.of(1, 2).size()");
            } catch (Exception e) {
                System.err.println("rlcd kernel: warm-up cell failed: " + e);
            }
        }
        return ev;
    }

    CellEvaluator evaluator() {
        try {
            return evaluator.join();
        } catch (RuntimeException e) {
            throw new IllegalStateException("JShell failed to start: " + e.getCause(), e.getCause());
        }
    }

    private void registerMagics() {
        magicsRegistry.registerLineMagic("classpath", (kernel, args) -> addToClasspath(ClasspathMagic.resolve(args, Path.of(""))));
        magicsRegistry.registerLineMagic("jars", (kernel, args) -> addToClasspath(ClasspathMagic.resolve(args, Path.of(""))));
        magicsRegistry.registerLineMagic("maven", (kernel, args) -> {
            Path cache = Path.of(System.getProperty("user.home"), ".cache", "rlcd4j", "maven");
            boolean offline = Boolean.getBoolean("rlcd4j.maven.offline") || "true".equals(System.getenv("RLCD4J_MAVEN_OFFLINE"));
            return addToClasspath(MavenMagic.resolve(args, cache, offline));
        });
    }

    /** Adds jars to the notebook, skipping ones whose file name is already on it (no duplicate classes). */
    private List<String> addToClasspath(List<Path> paths) {
        CellEvaluator ev = evaluator();
        List<String> known = ev.classpath().stream().map(s -> new File(s).getName()).toList();
        List<String> added = new ArrayList<>();
        for (Path p : paths) {
            String abs = p.toAbsolutePath().toString();
            if (Files.isRegularFile(p) && known.contains(p.getFileName().toString())) continue;
            ev.addToClasspath(abs);
            added.add(abs);
        }
        System.out.println("class path: +" + added.size() + (added.size() == 1 ? " entry" : " entries")
                + (added.size() < paths.size() ? " (" + (paths.size() - added.size()) + " already there)" : ""));
        return added;
    }

    @Override
    public void onStartup() {
        super.onStartup();
        installExtension(new RlcdDisplayExtension());
    }

    @Override
    public Object evalRaw(String source) {
        String code = magicParser.resolveMagics(source);
        try {
            return evaluator().eval(code);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) { // a checked exception thrown by the cell: passed on as it is, so Jupyter shows its name
            throw RlcdKernel.<RuntimeException>sneaky(e);
        }
    }

    /** The last value of a cell, rendered; nothing for declarations, statements and {@code display(...)} handles. */
    @Override
    public DisplayData eval(String source) {
        Object value = evalRaw(source);
        if (value == CellEvaluator.NO_VALUE || value instanceof Display) return null;
        if (value == null) return new DisplayData("null");
        return value instanceof DisplayData d ? d : getRenderer().render(value);
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        String text = evaluator().inspect(code, at);
        return text == null ? null : new DisplayData(text);
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        int lineStart = code.lastIndexOf('\n', Math.max(0, at - 1)) + 1;
        String line = code.substring(lineStart, at).stripLeading();
        if (line.startsWith("%")) {
            boolean cell = line.startsWith("%%");
            String prefix = line.substring(cell ? 2 : 1);
            if (prefix.contains(" ")) return null;
            List<String> names = (cell ? magicsRegistry.getCellMagicNames() : magicsRegistry.getLineMagicNames())
                    .stream().filter(n -> n.startsWith(prefix)).sorted().toList();
            return new ReplacementOptions(names, at - prefix.length(), at);
        }
        CellEvaluator.Completion c = evaluator().complete(code, at);
        return c == null ? null : new ReplacementOptions(c.matches(), c.start(), c.end());
    }

    @Override
    public String isComplete(String code) {
        return switch (evaluator().isComplete(code)) {
            case "complete" -> IS_COMPLETE_YES;
            case "invalid" -> IS_COMPLETE_BAD;
            default -> "    "; // incomplete: continue with an indent
        };
    }

    @Override
    public void interrupt() {
        if (evaluator.isDone()) evaluator().interrupt();
    }

    /** Readable errors: compile errors point at the cell line; exceptions show the cell's frames, not the kernel's. */
    @Override
    public List<String> formatError(Throwable e) {
        List<String> lines = new ArrayList<>();
        if (e instanceof CompileError ce) {
            for (String l : ce.report()) lines.add(l.startsWith("error:") ? errorStyler.primary(l) : errorStyler.secondary(l));
            return lines;
        }
        if (e instanceof CellInterrupted) {
            lines.add(errorStyler.primary("Interrupted: the cell was stopped; the kernel and its variables are still there."));
            return lines;
        }
        Throwable shown = e instanceof CellError ? e.getCause() : e;
        lines.add(errorStyler.primary(shown.toString()));
        appendFrames(shown, lines, 0);
        return lines;
    }

    private void appendFrames(Throwable t, List<String> lines, int depth) {
        for (StackTraceElement f : t.getStackTrace()) {
            String cls = f.getClassName();
            if (cls.startsWith("jdk.internal.reflect.") || cls.startsWith("java.lang.reflect.Method")
                    || cls.startsWith("rlcd4j.kernel.ObjectExecutionControl")) break; // the kernel's own frames
            // JShell wraps each snippet in a class; its line numbers are the wrapper's, so name only the method.
            String where = cls.startsWith("REPL.") ? (f.getMethodName().equals("do_it$") ? "(cell)" : f.getMethodName() + " (cell)") : f.toString();
            lines.add(errorStyler.secondary("    at " + where));
        }
        Throwable cause = t.getCause();
        if (cause != null && cause != t && depth < 10) {
            lines.add(errorStyler.primary("Caused by: " + cause));
            appendFrames(cause, lines, depth + 1);
        }
    }

    /** JJava leaves {@code status} out of kernel_info_reply; the protocol requires it. */
    @Override
    protected void handleKernelInfoRequest(ShellReplyEnvironment env, Message<KernelInfoRequest> request) {
        env.setBusyDeferIdle();
        env.reply(new KernelInfo(Header.PROTOCOL_VERISON, name, version, getLanguageInfo(), getBanner(), getHelpLinks()));
    }

    @Override
    public String getBanner() {
        return "rlcd4j " + version + " on Java " + Runtime.version() + " (JShell). Toolkit imported; display(x) shows x.";
    }

    static final class KernelInfo extends KernelInfoReply {
        @SuppressWarnings("unused") // serialized by Gson
        private final String status = "ok";

        KernelInfo(String protocol, String name, String version, LanguageInfo lang, String banner, List<HelpLink> links) {
            super(protocol, name, version, lang, banner, links);
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Exception> E sneaky(Exception e) throws E {
        throw (E) e;
    }

    static final class Builder extends BaseKernelBuilder<Builder, RlcdKernel> {
        @Override
        public RlcdKernel build() {
            Charset cs = buildJupyterIOEncoding();
            // Line magics at the start of a line (or after '='); cell magics on the first line.
            MagicParser parser = new MagicParser("(?<=(?:^|=))\\s*%", "%%", buildMagicTranspiler());
            return new RlcdKernel(buildName(), buildVersion(), buildJupyterIO(cs), buildCommManager(), buildRenderer(),
                    parser, buildMagicsRegistry(), buildExtensionsEnabled(), buildErrorStyler(), buildHistoryManager());
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java -cp <classpath> rlcd4j.kernel.RlcdKernel <connection-file.json>");
            System.exit(2);
        }
        // Library logs (DJL, JJava) only when something is wrong; they go to the notebook's stderr during a cell.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(Path.of(args[0])));
        RlcdKernel kernel = new Builder().name("rlcd4j").version(VERSION).build();
        JupyterConnection connection = new PromptConnection(props);
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        kernel.onStartup();
        connection.waitUntilClose();
        // JJava's own main returns here and its worker threads keep the JVM alive for a minute; we leave at once.
        System.exit(0);
    }
}
