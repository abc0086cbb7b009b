package rlcd4j.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The traceback of an exception thrown by a cell, as a person wants to read it: the exception's class and message,
 * the cell frames as "cell N, line L", the frame that threw it when that is library code, and every other run of
 * frames folded into one line ("... 5 kernel frames"). Repeated lines (deep recursion) are counted, not listed.
 */
final class ErrorReport {
    private static final int MAX_CAUSES = 10;

    private enum Kind {
        USER,
        LIBRARY,
        KERNEL
    }

    private ErrorReport() {}

    /**
     * @param cellFrame "cell N, line L" (optionally with the method) for a frame of notebook code, null for others
     */
    static List<String> lines(Throwable error, Function<StackTraceElement, String> cellFrame) {
        List<String> out = new ArrayList<>();
        Throwable t = error;
        for (int depth = 0; t != null && depth <= MAX_CAUSES; depth++) {
            out.add((depth == 0 ? "" : "Caused by: ") + t);
            frames(t.getStackTrace(), cellFrame, out);
            Throwable cause = t.getCause();
            t = cause == t ? null : cause;
        }
        return out;
    }

    private static void frames(
            StackTraceElement[] stack, Function<StackTraceElement, String> cellFrame, List<String> out) {
        List<String> lines = new ArrayList<>();
        int i = 0;
        while (i < stack.length) {
            String where = cellFrame.apply(stack[i]);
            Kind kind = where != null ? Kind.USER : isKernel(stack[i].getClassName()) ? Kind.KERNEL : Kind.LIBRARY;
            if (kind == Kind.USER) {
                lines.add("    at " + where);
                i++;
                continue;
            }
            int start = i;
            while (i < stack.length
                    && cellFrame.apply(stack[i]) == null
                    && (isKernel(stack[i].getClassName()) ? Kind.KERNEL : Kind.LIBRARY) == kind) {
                i++;
            }
            int run = i - start;
            if (start == 0 && kind == Kind.LIBRARY) { // where it was thrown: worth seeing
                lines.add("    at " + stack[0]);
                run--;
            }
            if (run > 0) {
                lines.add("    ... " + run + " " + (kind == Kind.KERNEL ? "kernel" : "library")
                        + (run == 1 ? " frame" : " frames"));
            }
        }
        for (int k = 0; k < lines.size(); ) {
            int same = 1;
            while (k + same < lines.size() && lines.get(k + same).equals(lines.get(k))) same++;
            out.add(lines.get(k));
            if (same > 1) out.add("    [the line above repeated " + (same - 1) + " more times]");
            k += same;
        }
    }

    /** The kernel's own frames and the reflection and JShell frames between it and a cell's code. */
    static boolean isKernel(String className) {
        return className.startsWith("rlcd4j.kernel.")
                || className.startsWith("jdk.internal.reflect.")
                || className.startsWith("java.lang.reflect.")
                || className.startsWith("jdk.jshell.")
                || className.startsWith("org.dflib.jjava.")
                || className.equals("java.lang.Thread");
    }
}
