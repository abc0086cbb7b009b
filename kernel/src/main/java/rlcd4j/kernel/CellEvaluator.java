package rlcd4j.kernel;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;

/**
 * The kernel's JShell: splits a cell into snippets, evaluates them in this JVM and returns the last expression's real
 * value. Also answers completion, inspection and "is this cell complete" for the front end.
 */
final class CellEvaluator implements AutoCloseable {
    /** Returned by {@link #eval(String)} when the cell has no value to show (declarations, statements, void calls). */
    static final Object NO_VALUE = new Object();

    private final ObjectExecutionControl control;
    private final JShell shell;
    private final SourceCodeAnalysis analysis;
    private final Set<String> classpath = new LinkedHashSet<>();
    /** Where each snippet came from, to name "cell N, line L" in tracebacks. */
    private final Map<Snippet, Origin> origins = Collections.synchronizedMap(new IdentityHashMap<>());
    /** JShell's wrapper class name (REPL.$JShell$12B) of each snippet seen in a traceback so far. */
    private final Map<String, Snippet> byWrapper = new ConcurrentHashMap<>();

    private final Set<Snippet> wrapped =
            Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private volatile int cell;

    /** The cell (execution count, 0 when unknown) and its line, 0-based, where the snippet's source starts. */
    private record Origin(int cell, int firstLine) {}

    /**
     * @param classpath entries the compiler should see; the classes themselves come from the kernel's class loader,
     *                  so a {@code Table} made in a cell is the same class the renderers know
     * @param imports   {@code import ...;} lines evaluated at start; ones that do not compile are skipped
     */
    CellEvaluator(List<String> classpath, List<String> imports) {
        ObjectExecutionControl.Provider provider = new ObjectExecutionControl.Provider();
        this.control = provider.control();
        this.shell =
                JShell.builder().executionEngine(provider, java.util.Map.of()).build();
        this.analysis = shell.sourceCodeAnalysis();
        for (String entry : classpath) addToClasspath(entry);
        for (String imp : imports) {
            List<SnippetEvent> events = shell.eval(imp);
            if (events.isEmpty() || events.get(0).status() == Snippet.Status.REJECTED) {
                System.err.println("rlcd kernel: skipped start-up import that does not compile: " + imp);
            }
        }
    }

    /** Adds a jar or class directory for both the compiler and the class loader; repeated entries are ignored. */
    void addToClasspath(String entry) {
        if (entry.isBlank() || !classpath.add(new File(entry).getAbsolutePath())) return;
        shell.addToClasspath(entry);
    }

    /** The loader that sees the jars added with {@link #addToClasspath}, for finding their display extensions. */
    ClassLoader snippetLoader() {
        ClassLoader l = control.snippetLoader();
        return l != null ? l : CellEvaluator.class.getClassLoader();
    }

    List<String> classpath() {
        return List.copyOf(classpath);
    }

    /**
     * Evaluates every snippet of the cell in order and returns the value of the last one, {@link #NO_VALUE} when it
     * has none, or throws: {@link CompileError}, {@link CellInterrupted}, or the exception the code threw.
     */
    Object eval(String code) throws Exception {
        return eval(code, 0);
    }

    /** {@link #eval(String)} for the cell with this execution count, which tracebacks then name. */
    Object eval(String code, int cellNumber) throws Exception {
        cell = cellNumber;
        control.clearResults();
        Object last = NO_VALUE;
        String remaining = code;
        int offset = 0;
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
            String source;
            String rest;
            switch (info.completeness()) {
                case EMPTY -> {
                    return last;
                }
                case COMPLETE, COMPLETE_WITH_SEMI -> {
                    source = info.source();
                    rest = info.remaining();
                }
                default -> { // incomplete or unknown: let the compiler say what is wrong with the rest
                    source = remaining;
                    rest = "";
                }
            }
            int start = code.indexOf(source.strip().replaceAll(";$", ""), offset);
            if (start < 0) start = offset;
            last = evalSnippet(source, code, start);
            offset = code.length() - rest.length();
            remaining = rest;
        }
        return last;
    }

    private Object evalSnippet(String source, String cell, int cellOffset) throws Exception {
        List<SnippetEvent> events = shell.eval(source);
        if (control.stopRequested()) throw new CellInterrupted();
        Object value = NO_VALUE;
        for (SnippetEvent event : events) {
            if (event.causeSnippet() != null) continue; // updates of dependent snippets
            if (event.snippet() != null) origins.put(event.snippet(), origin(source, cell, cellOffset));
            JShellException failure = event.exception();
            if (failure != null) throw userFailure(failure);
            if (event.status() == Snippet.Status.REJECTED) {
                throw CompileError.of(
                        shell.diagnostics(event.snippet()).collect(Collectors.toList()),
                        event.snippet().source(),
                        cell,
                        cellOffset);
            }
            if (event.status().isActive() && event.snippet() != null) value = valueOf(event);
        }
        return value;
    }

    private Object valueOf(SnippetEvent event) {
        Snippet snippet = event.snippet();
        Snippet.SubKind sub = snippet.subKind();
        boolean shown = sub == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND
                || sub == Snippet.SubKind.VAR_VALUE_SUBKIND
                || sub == Snippet.SubKind.OTHER_EXPRESSION_SUBKIND;
        if (!shown || !(snippet instanceof VarSnippet || snippet instanceof ExpressionSnippet)) {
            control.takeResult(event.value());
            return NO_VALUE;
        }
        Object value = control.takeResult(event.value());
        if (value == null && sub == Snippet.SubKind.OTHER_EXPRESSION_SUBKIND) return NO_VALUE;
        return value;
    }

    private Exception userFailure(JShellException failure) {
        if (control.stopRequested()) return new CellInterrupted();
        if (failure instanceof EvalException) {
            Throwable real = control.lastThrown();
            if (real instanceof Exception e) return e;
            if (real != null) return new CellError(real);
            return new CellError(failure);
        }
        if (failure instanceof UnresolvedReferenceException unresolved) {
            return new CompileError(
                    "the code uses " + unresolved.getSnippet().source().strip()
                            + " which is not defined yet (define it in a cell first)",
                    List.of());
        }
        return new CellError(failure);
    }

    private Origin origin(String source, String cellText, int cellOffset) {
        int lead = 0;
        while (lead < source.length() && Character.isWhitespace(source.charAt(lead))) lead++;
        int firstLine = lines(cellText, Math.min(cellOffset, cellText.length())) - lines(source, lead);
        return new Origin(cell, Math.max(0, firstLine));
    }

    private static int lines(String text, int end) {
        int n = 0;
        for (int i = 0; i < end; i++) if (text.charAt(i) == '\n') n++;
        return n;
    }

    /**
     * "cell N, line L" (with the method or class, when it is not the cell's own statements) for a stack frame of
     * notebook code; null for any other frame. JShell compiles each snippet as a class REPL.$JShell$K whose line
     * numbers are those of its generated source; the snippet's wrapper maps them back to the snippet's text.
     */
    String cellFrame(StackTraceElement frame) {
        String cls = frame.getClassName();
        if (!cls.startsWith("REPL.$JShell$")) return null;
        int nested = cls.indexOf('$', "REPL.$JShell$".length());
        String wrapperName = nested < 0 ? cls : cls.substring(0, nested);
        String member = memberName(nested < 0 ? "" : cls.substring(nested + 1), frame.getMethodName());
        Snippet snippet = snippetOf(wrapperName);
        Origin origin = snippet == null ? null : origins.get(snippet);
        if (origin == null) return (member.isEmpty() ? "" : member + " ") + "(an earlier cell)";
        String where = (origin.cell() > 0 ? "cell " + origin.cell() : "a cell");
        int line = snippetLine(snippet, frame.getLineNumber());
        if (line >= 0) where += ", line " + (origin.firstLine() + line + 1);
        return member.isEmpty() ? where : member + " (" + where + ")";
    }

    /** "" for a cell's own statements, else the method ("f", "Foo.bar", "lambda in f"). */
    private static String memberName(String nestedClass, String method) {
        String m = method;
        if (m.startsWith("lambda$")) {
            String enclosing = m.split("\\$")[1];
            m = enclosing.equals("do_it") ? "lambda" : "lambda in " + enclosing;
        } else if (m.equals("do_it$")) {
            m = "";
        }
        String owner = nestedClass.replace('$', '.');
        if (owner.isEmpty()) return m;
        return m.isEmpty() ? owner : owner + "." + m;
    }

    private Snippet snippetOf(String wrapperName) {
        Snippet known = byWrapper.get(wrapperName);
        if (known != null) return known;
        for (Snippet s : shell.snippets().toList()) {
            if (s.kind() == Snippet.Kind.IMPORT || !wrapped.add(s)) continue;
            try {
                byWrapper.put(analysis.wrapper(s).fullClassName(), s);
            } catch (RuntimeException e) {
                // a snippet JShell cannot wrap any more (dropped): not in any live frame
            }
        }
        return byWrapper.get(wrapperName);
    }

    /** 0-based line in the snippet's source of a line (1-based) of its generated wrapper class; -1 if unknown. */
    private int snippetLine(Snippet snippet, int wrapperLine) {
        if (wrapperLine <= 0) return -1;
        SourceCodeAnalysis.SnippetWrapper w = analysis.wrapper(snippet);
        String text = w.wrapped();
        int pos = 0;
        for (int l = 1; l < wrapperLine && pos >= 0; l++) {
            pos = text.indexOf('\n', pos);
            if (pos >= 0) pos++;
        }
        if (pos < 0) return -1;
        int end = text.indexOf('\n', pos);
        if (end < 0) end = text.length();
        for (int p = pos; p < end; p++) {
            if (Character.isWhitespace(text.charAt(p))) continue;
            int src = w.wrappedToSourcePosition(p);
            if (src >= 0)
                return lines(snippet.source(), Math.min(src, snippet.source().length()));
        }
        return -1;
    }

    /** Interrupts the running snippet, if any; the cell then fails with {@link CellInterrupted}. */
    void interrupt() {
        control.stop();
    }

    /** Front-end completion: replacement texts and the start of the text they replace. */
    Completion complete(String code, int cursor) {
        int lineStart = code.lastIndexOf('\n', Math.max(0, cursor - 1)) + 1;
        String line = code.substring(lineStart, cursor);
        if (line.stripLeading().startsWith("%")) return null; // magics are completed by the kernel
        int[] anchor = new int[1];
        List<SourceCodeAnalysis.Suggestion> suggestions = analysis.completionSuggestions(code, cursor, anchor);
        List<String> texts = new ArrayList<>(new LinkedHashSet<>(suggestions.stream()
                .map(SourceCodeAnalysis.Suggestion::continuation)
                .toList()));
        return new Completion(texts, anchor[0], cursor);
    }

    record Completion(List<String> matches, int start, int end) {}

    /**
     * Signature and javadoc of the name at the cursor. JShell documents a call only when the cursor sits inside
     * its parentheses, so a cursor at the end of {@code Math.abs} is retried as {@code Math.abs(}; a variable gets
     * its type and value.
     */
    String inspect(String code, int cursor) {
        List<SourceCodeAnalysis.Documentation> docs = analysis.documentation(code, cursor, true);
        if (docs.isEmpty() && cursor > 0 && Character.isJavaIdentifierPart(code.charAt(cursor - 1))) {
            docs = analysis.documentation(code.substring(0, cursor) + "(", cursor + 1, true);
        }
        if (!docs.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (SourceCodeAnalysis.Documentation d : docs) {
                sb.append(d.signature()).append('\n');
                if (d.javadoc() != null && !d.javadoc().isBlank())
                    sb.append(d.javadoc().strip()).append("\n\n");
            }
            return sb.toString().strip();
        }
        String name = identifierAt(code, cursor);
        if (name.isEmpty()) return null;
        return shell.variables()
                .filter(v -> v.name().equals(name) && shell.status(v).isActive())
                .map(v -> v.typeName() + " " + v.name())
                .findFirst()
                .orElse(null);
    }

    private static String identifierAt(String code, int cursor) {
        int s = Math.min(cursor, code.length());
        int e = s;
        while (s > 0 && Character.isJavaIdentifierPart(code.charAt(s - 1))) s--;
        while (e < code.length() && Character.isJavaIdentifierPart(code.charAt(e))) e++;
        return code.substring(s, e);
    }

    /** "complete", "incomplete" or "invalid" for the front end's Enter key (console). */
    String isComplete(String code) {
        if (code.stripLeading().startsWith("%")) return "complete";
        String remaining = code;
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
            switch (info.completeness()) {
                case DEFINITELY_INCOMPLETE, CONSIDERED_INCOMPLETE -> {
                    return "incomplete";
                }
                case UNKNOWN -> {
                    return SyntaxCheck.parses(remaining) ? "complete" : "invalid";
                }
                case EMPTY -> {
                    return "complete";
                }
                default -> {
                    String source = info.source();
                    boolean erroneous = analysis.sourceToSnippets(source).stream()
                            .anyMatch(sn -> sn.kind() == Snippet.Kind.ERRONEOUS);
                    if (erroneous && !SyntaxCheck.parses(source)) return "invalid";
                    remaining = info.remaining();
                }
            }
        }
        return "complete";
    }

    @Override
    public void close() {
        shell.close();
    }

    /** Describes a compile diagnostic position as a line of the cell with a caret under the span. */
    static String locate(Diag d, String snippetSource, String cell, int cellOffset) {
        long pos = Math.max(0, d.getStartPosition() >= 0 ? d.getStartPosition() : d.getPosition());
        long end = Math.max(pos + 1, d.getEndPosition());
        int abs = (int) Math.min(cell.length(), cellOffset + Math.min(pos, snippetSource.length()));
        int lineStart = cell.lastIndexOf('\n', Math.max(0, abs - 1)) + 1;
        if (abs == 0) lineStart = 0;
        int lineEnd = cell.indexOf('\n', abs);
        if (lineEnd < 0) lineEnd = cell.length();
        int lineNo = (int) cell.substring(0, lineStart)
                        .chars()
                        .filter(c -> c == '\n')
                        .count()
                + 1;
        String line = cell.substring(lineStart, lineEnd);
        int col = abs - lineStart;
        int width = (int) Math.max(1, Math.min(end - pos, line.length() - col));
        return String.format(
                Locale.ROOT,
                "line %d: %s%n        %s%s",
                lineNo,
                line,
                " ".repeat(Math.max(0, col)),
                "^".repeat(Math.max(1, width)));
    }
}
