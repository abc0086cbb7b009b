package rlcd4j.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jdk.jshell.Diag;

/** A cell that does not compile: each error with the cell line it is on and a caret under the offending code. */
public final class CompileError extends RuntimeException {
    private final List<String> report;

    CompileError(String message, List<String> report) {
        super(message);
        this.report = List.copyOf(report);
    }

    static CompileError of(List<Diag> diagnostics, String snippetSource, String cell, int cellOffset) {
        List<String> report = new ArrayList<>();
        String first = null;
        for (Diag d : diagnostics) {
            if (!d.isError()) continue;
            String msg = d.getMessage(Locale.ROOT);
            if (first == null) first = msg;
            // JShell's wrapper classes have no name worth showing ("location: class ").
            report.add("error: "
                    + msg.replaceAll("(?m)^\\s*location: class\\s*$\\R?", "").stripTrailing());
            report.addAll(List.of(
                    CellEvaluator.locate(d, snippetSource, cell, cellOffset).split("\\R")));
        }
        if (first == null) first = "the code does not compile: " + snippetSource.strip();
        return new CompileError(first, report);
    }

    /** Lines for the notebook's error output. */
    List<String> report() {
        return report.isEmpty() ? List.of("error: " + getMessage()) : report;
    }
}
