package rlcd4j.eval;

/** The two bits of Python string behaviour the paper's scripts rely on, so that prompts and outputs match byte for byte. */
final class PyStrings {
    private PyStrings() {}

    /** Python's {@code str.isspace()} for one char: Java's whitespace plus the Unicode space separators (e.g. U+00A0) and U+0085. */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /** Python's {@code str.strip()} with no argument. */
    static String strip(String s) {
        int start = 0, end = s.length();
        while (start < end && isSpace(s.charAt(start))) start++;
        while (end > start && isSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    /** Python's {@code while '\n\n' in s: s = s.replace('\n\n', '\n')}: every run of newlines becomes one. */
    static String collapseBlankLines(String s) {
        while (s.contains("\n\n")) s = s.replace("\n\n", "\n");
        return s;
    }
}
