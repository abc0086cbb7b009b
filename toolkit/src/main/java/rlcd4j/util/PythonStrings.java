package rlcd4j.util;

/**
 * The bits of Python string behaviour the paper's scripts rely on, so that prompts and outputs match byte for byte.
 * Java's {@link String#strip()} differs: it keeps U+0085, U+00A0, U+2007 and U+202F, which Python strips.
 */
public final class PythonStrings {
    private PythonStrings() {}

    /** Python's {@code str.strip()} with no argument: removes leading/trailing characters for which isspace() holds. */
    public static String strip(String s) {
        int start = 0, end = s.length();
        while (start < end && isSpace(s.charAt(start))) start++;
        while (end > start && isSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    /**
     * Python's {@code str.isspace()} for one BMP char: whitespace (Zs, bidi WS/B/S) including \x1c-\x1f, \x85, \xa0.
     * A fixed list rather than Java's Unicode tables, so that a JDK with a newer Unicode version cannot change it.
     */
    public static boolean isSpace(char c) {
        switch (c) {
            case ' ':
            case '\t':
            case '\n':
            case '\u000b':
            case '\f':
            case '\r':
            case '\u001c':
            case '\u001d':
            case '\u001e':
            case '\u001f':
            case '\u0085':
            case '\u00a0':
            case '\u1680':
            case '\u2028':
            case '\u2029':
            case '\u202f':
            case '\u205f':
            case '\u3000':
                return true;
            default:
                return c >= '\u2000' && c <= '\u200a';
        }
    }

    /** Python's {@code while '\n\n' in s: s = s.replace('\n\n', '\n')}: every run of newlines becomes one. */
    public static String collapseBlankLines(String s) {
        while (s.contains("\n\n")) s = s.replace("\n\n", "\n");
        return s;
    }
}
