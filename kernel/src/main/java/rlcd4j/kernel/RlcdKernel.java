package rlcd4j.kernel;

import java.io.File;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.dflib.jjava.jupyter.Extension;
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
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.dflib.jjava.jupyter.kernel.history.HistoryManager;
import org.dflib.jjava.jupyter.kernel.magic.MagicParser;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.dflib.jjava.jupyter.kernel.util.StringStyler;
import org.dflib.jjava.jupyter.messages.Header;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.reply.HistoryReply;
import org.dflib.jjava.jupyter.messages.reply.KernelInfoReply;
import org.dflib.jjava.jupyter.messages.request.ExecuteRequest;
import org.dflib.jjava.jupyter.messages.request.HistoryRequest;
import org.dflib.jjava.jupyter.messages.request.KernelInfoRequest;
import rlcd4j.StartupImports;
import rlcd4j.kernel.display.RlcdDisplayExtension;
import rlcd4j.util.RlcdException;

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
    public static final String VERSION = rlcd4j.util.BuildVersion.get(); // the pom's, as Maven built it
    private final CompletableFuture<CellEvaluator> evaluator;
    private final CellHistory cellHistory = new CellHistory();
    private final List<MavenMagic.Repository> repositories = new ArrayList<>();
    /** The execution count of the cell being run, and the text/plain of its result, for tracebacks and history. */
    private volatile int currentCell;

    private volatile String currentResult;
    private KernelConnectionProperties connectionProperties;

    private RlcdKernel(
            String name,
            String version,
            JupyterIO io,
            CommManager comms,
            Renderer renderer,
            MagicParser magicParser,
            MagicsRegistry magics,
            boolean extensionsEnabled,
            StringStyler errorStyler,
            HistoryManager history) {
        super(
                name,
                version,
                new LanguageInfo(
                        "java", Runtime.version().toString(), "text/x-java-source", ".jshell", "java", "java", null),
                List.of(
                        new HelpLink("rlcd4j kernel", "https://github.com/rlcd4j/rlcd4j/blob/main/docs/kernel.md"),
                        new HelpLink("Java API", "https://docs.oracle.com/en/java/javase/17/docs/api/")),
                history,
                io,
                comms,
                renderer,
                magicParser,
                magics,
                extensionsEnabled,
                errorStyler);
        this.evaluator = CompletableFuture.supplyAsync(RlcdKernel::startJShell);
        registerMagics();
    }

    private static CellEvaluator startJShell() {
        List<String> cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.isBlank())
                .collect(Collectors.toList());
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
        magicsRegistry.registerLineMagic(
                "classpath", (kernel, args) -> magic(() -> addToClasspath(ClasspathMagic.resolve(args, Path.of("")))));
        magicsRegistry.registerLineMagic(
                "jars", (kernel, args) -> magic(() -> addToClasspath(ClasspathMagic.resolve(args, Path.of("")))));
        magicsRegistry.registerLineMagic(
                "maven",
                (kernel, args) -> magic(() -> addToClasspath(
                        MavenMagic.resolve(args, List.copyOf(repositories), mavenCache(), mavenOffline()))));
        magicsRegistry.registerLineMagic(
                "mavenRepo",
                (kernel, args) -> magic(() -> {
                    MavenMagic.Repository repo = MavenMagic.repository(args, repositories);
                    if (!repositories.contains(repo) && !repo.id().equals("central")) {
                        repositories.removeIf(r -> r.id().equals(repo.id()));
                        repositories.add(repo);
                    }
                    System.out.println("%maven also searches " + repo.id() + " (" + repo.url() + ")");
                    return repo.url();
                }));
        magicsRegistry.registerLineMagic(
                "loadFromPOM",
                (kernel, args) -> magic(() -> {
                    if (args.isEmpty())
                        throw new RlcdException("%loadFromPOM: give the path of a pom.xml (and optionally a scope)");
                    String pom = MavenMagic.pomFromFile(Path.of(args.get(0)));
                    return addToClasspath(MavenMagic.resolvePom(
                            pom, args.subList(1, args.size()), mavenCache(), mavenOffline(), "%loadFromPOM"));
                }));
        magicsRegistry.registerCellMagic(
                "loadFromPOM",
                (kernel, args, body) -> magic(() -> addToClasspath(MavenMagic.resolvePom(
                        MavenMagic.pomFromCell(body), args, mavenCache(), mavenOffline(), "%%loadFromPOM"))));
    }

    private static Path mavenCache() {
        return Path.of(System.getProperty("user.home"), ".cache", "rlcd4j", "maven");
    }

    private static boolean mavenOffline() {
        return Boolean.getBoolean("rlcd4j.maven.offline") || "true".equals(System.getenv("RLCD4J_MAVEN_OFFLINE"));
    }

    /** Runs a magic; its RlcdException (bad input) becomes a {@link MagicError}, shown as one line. */
    private static <T> T magic(java.util.function.Supplier<T> body) {
        try {
            return body.get();
        } catch (MagicError | CellInterrupted e) {
            throw e;
        } catch (RlcdException e) {
            throw new MagicError(e.getMessage(), e);
        }
    }

    /** Adds jars to the notebook, skipping ones whose file name is already on it (no duplicate classes). */
    private List<String> addToClasspath(List<Path> paths) {
        CellEvaluator ev = evaluator();
        List<String> known =
                ev.classpath().stream().map(s -> new File(s).getName()).toList();
        List<String> added = new ArrayList<>();
        for (Path p : paths) {
            String abs = p.toAbsolutePath().toString();
            if (Files.isRegularFile(p) && known.contains(p.getFileName().toString())) continue;
            ev.addToClasspath(abs);
            added.add(abs);
        }
        System.out.println("class path: +" + added.size() + (added.size() == 1 ? " entry" : " entries")
                + (added.size() < paths.size() ? " (" + (paths.size() - added.size()) + " already there)" : ""));
        if (!added.isEmpty()) installNewExtensions(ev.snippetLoader());
        return added;
    }

    /**
     * Display extensions (JJava's {@code META-INF/services/org.dflib.jjava.jupyter.Extension}) in jars just added:
     * the class path is scanned again after every change; ones already installed are skipped.
     */
    private void installNewExtensions(ClassLoader loader) {
        List<String> installed = new ArrayList<>();
        try {
            for (ServiceLoader.Provider<Extension> p :
                    ServiceLoader.load(Extension.class, loader).stream().toList()) {
                if (extensions.containsKey(p.type().getName())) continue;
                installExtension(p.get());
                installed.add(p.type().getName());
            }
        } catch (ServiceConfigurationError | LinkageError e) {
            throw new RlcdException("a display extension on the new class path cannot be loaded: " + e.getMessage(), e);
        }
        if (!installed.isEmpty()) System.out.println("display extensions: " + String.join(", ", installed));
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
            return evaluator().eval(code, currentCell);
        } catch (RuntimeException e) {
            // JJava wraps what a magic throws ("Exception occurred while running line magic ..."): show ours alone.
            for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
                if (t instanceof MagicError m) throw m;
            }
            throw e;
        } catch (Exception e) { // a checked exception thrown by the cell: passed on as it is, so Jupyter shows its name
            throw RlcdKernel.<RuntimeException>sneaky(e);
        }
    }

    /** The last value of a cell, rendered; nothing for declarations, statements and {@code display(...)} handles. */
    @Override
    public DisplayData eval(String source) {
        Object value = evalRaw(source);
        if (value == CellEvaluator.NO_VALUE || value instanceof Display || Notebook.isLastDisplayId(value)) return null;
        DisplayData data = value == null
                ? new DisplayData("null")
                : value instanceof DisplayData d ? d : getRenderer().render(value);
        Object text = data.getData(MIMEType.TEXT_PLAIN);
        currentResult = text == null ? null : text.toString();
        return data;
    }

    /** Records each cell run with store_history, for history_request. */
    @Override
    protected synchronized void handleExecuteRequest(ShellReplyEnvironment env, Message<ExecuteRequest> message) {
        ExecuteRequest request = message.getContent();
        currentCell = executionCount.get(); // the count JJava gives this cell
        currentResult = null;
        try {
            super.handleExecuteRequest(env, message);
        } finally {
            if (request.shouldStoreHistory() && !request.isSilent()) {
                cellHistory.add(currentCell, request.getCode(), currentResult);
            }
        }
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
            for (String l : ce.report())
                lines.add(l.startsWith("error:") ? errorStyler.primary(l) : errorStyler.secondary(l));
            return lines;
        }
        if (e instanceof CellInterrupted) {
            lines.add(errorStyler.primary(
                    "Interrupted: the cell was stopped; the kernel and its variables are still there."));
            return lines;
        }
        if (e instanceof MagicError) {
            lines.add(errorStyler.primary(e.getMessage()));
            return lines;
        }
        Throwable shown = e instanceof CellError ? e.getCause() : e;
        CellEvaluator ev = evaluator.isDone() ? evaluator() : null;
        List<String> report = ErrorReport.lines(shown, f -> ev == null ? null : ev.cellFrame(f));
        for (int i = 0; i < report.size(); i++) {
            String l = report.get(i);
            lines.add(i == 0 || l.startsWith("Caused by") ? errorStyler.primary(l) : errorStyler.secondary(l));
        }
        return lines;
    }

    /** JJava's handlers, plus replies to every other request of the messaging spec ({@link ProtocolReplies}). */
    @Override
    public void becomeHandlerForConnection(JupyterConnection connection) {
        super.becomeHandlerForConnection(connection);
        ProtocolReplies.install(connection, commManager, connectionProperties);
    }

    /** JJava answers history_request only with a HistoryManager, and without status; this one always answers. */
    @Override
    protected void handleHistoryRequest(ShellReplyEnvironment env, Message<HistoryRequest> request) {
        env.setBusyDeferIdle();
        ProtocolReplies.reply(
                env, HistoryReply.MESSAGE_TYPE, ProtocolReplies.history(cellHistory, request.getContent()));
    }

    CellHistory cellHistory() {
        return cellHistory;
    }

    /** JJava leaves {@code status} out of kernel_info_reply; the protocol requires it. */
    @Override
    protected void handleKernelInfoRequest(ShellReplyEnvironment env, Message<KernelInfoRequest> request) {
        env.setBusyDeferIdle();
        env.reply(
                new KernelInfo(Header.PROTOCOL_VERISON, name, version, getLanguageInfo(), getBanner(), getHelpLinks()));
    }

    @Override
    public String getBanner() {
        return "rlcd4j " + version + " on Java " + Runtime.version()
                + " (JShell). Toolkit imported; display(x) shows x.";
    }

    static final class KernelInfo extends KernelInfoReply {
        @SuppressWarnings("unused") // serialized by Gson
        private final String status = "ok";

        KernelInfo(
                String protocol, String name, String version, LanguageInfo lang, String banner, List<HelpLink> links) {
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
            return new RlcdKernel(
                    buildName(),
                    buildVersion(),
                    buildJupyterIO(cs),
                    buildCommManager(),
                    buildRenderer(),
                    parser,
                    buildMagicsRegistry(),
                    buildExtensionsEnabled(),
                    buildErrorStyler(),
                    buildHistoryManager());
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java -cp <classpath> rlcd4j.kernel.RlcdKernel <connection-file.json>");
            System.exit(2);
        }
        // Library logs (DJL, JJava) only when something is wrong; they go to the notebook's stderr during a cell.
        System.setProperty(
                "org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        // rlcd4j's INFO notes (a trainer's settings) would show as stderr boxes; progress has the notebook's display.
        String rlcd4jLevel = "org.slf4j.simpleLogger.log.rlcd4j";
        System.setProperty(rlcd4jLevel, System.getProperty(rlcd4jLevel, "warn"));
        // But a run folder's "recomputing stage X: 'setting' a -> b" must show: a rerun never changes results silently.
        String pipelineLevel = rlcd4jLevel + ".pipeline.RunFolder";
        System.setProperty(pipelineLevel, System.getProperty(pipelineLevel, "info"));
        KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(Path.of(args[0])));
        RlcdKernel kernel = new Builder().name("rlcd4j").version(VERSION).build();
        kernel.connectionProperties = props;
        JupyterConnection connection = new PromptConnection(props);
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        kernel.onStartup();
        connection.waitUntilClose();
        // JJava's own main returns here and its worker threads keep the JVM alive for a minute; we leave at once.
        System.exit(0);
    }
}
