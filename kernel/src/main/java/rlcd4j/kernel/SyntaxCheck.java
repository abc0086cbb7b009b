package rlcd4j.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.List;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

/**
 * Parse-only check of one JShell snippet, for is_complete's "invalid". JShell marks a snippet erroneous both for
 * syntax errors and for names it cannot resolve yet ({@code q * 2} before {@code q} exists); only the first is
 * invalid code. javac's parser (no attribution) tells them apart: a snippet is valid if it parses as statements, as
 * class members or as an expression.
 */
final class SyntaxCheck {
    private static final JavaCompiler JAVAC = ToolProvider.getSystemJavaCompiler();

    private SyntaxCheck() {}

    static boolean parses(String snippet) {
        String s = snippet.strip();
        String expr = s.endsWith(";") ? s.substring(0, s.length() - 1) : s;
        return parsesAs("class W { void m() throws Throwable {\n" + s + "\n} }")
                || parsesAs("class W {\n" + s + "\n}")
                || parsesAs("class W { Object o = (\n" + expr + "\n); }");
    }

    private static boolean parsesAs(String unit) {
        DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
        JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///W.java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return unit;
            }
        };
        try {
            var task = (com.sun.source.util.JavacTask)
                    JAVAC.getTask(null, null, diags, List.of("-proc:none"), null, List.of(file));
            task.parse();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return diags.getDiagnostics().stream().noneMatch(d -> d.getKind() == Diagnostic.Kind.ERROR);
    }
}
