package rlcd4j.util;

/** HTML text for the reports, the human-rating sheet, the notebook displays and the kernel's generated XML. */
public final class Html {
    private Html() {}

    /** {@code s} as HTML or XML text, also safe inside attribute values quoted with {@code "} or {@code '}. */
    public static String escape(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            String rep = switch (s.charAt(i)) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (rep == null && sb == null) continue;
            if (sb == null) sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            if (rep == null) sb.append(s.charAt(i));
            else sb.append(rep);
        }
        return sb == null ? s : sb.toString();
    }
}
