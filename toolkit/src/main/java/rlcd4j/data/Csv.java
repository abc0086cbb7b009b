package rlcd4j.data;

import java.util.ArrayList;
import java.util.List;
import rlcd4j.util.RlcdException;

/**
 * CSV as Python's {@code csv} module writes it by default (the "excel" dialect): comma, '"' quotes doubled inside
 * fields, a field quoted only when it holds a comma, a quote, '\r' or '\n' (QUOTE_MINIMAL), rows ended by "\r\n".
 * The reader accepts that and plain "\n" line ends, with newlines inside quoted fields.
 */
public final class Csv {
    private Csv() {}

    public static String row(List<String> fields) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) sb.append(',');
            String f = fields.get(i);
            boolean quote = f.indexOf(',') >= 0 || f.indexOf('"') >= 0 || f.indexOf('\n') >= 0 || f.indexOf('\r') >= 0;
            if (quote) sb.append('"').append(f.replace("\"", "\"\"")).append('"');
            else sb.append(f);
        }
        if (fields.size() == 1 && fields.get(0).isEmpty()) sb.append("\"\""); // Python quotes a lone empty field
        return sb.append("\r\n").toString();
    }

    /** A parsed record and the 1-based line it starts on. */
    public record Record(int line, List<String> fields) {}

    public static List<Record> parse(String file, String text) {
        List<Record> out = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        int line = 1, recordLine = 1, i = 0, n = text.length();
        boolean inQuotes = false, fieldStarted = false, quotedField = false;
        while (i < n) {
            char c = text.charAt(i);
            if (inQuotes) {
                if (c == '"') {
                    if (i + 1 < n && text.charAt(i + 1) == '"') {
                        f.append('"');
                        i += 2;
                        continue;
                    }
                    inQuotes = false;
                    i++;
                    continue;
                }
                if (c == '\n') line++;
                f.append(c);
                i++;
                continue;
            }
            if (c == '"' && !fieldStarted) {
                inQuotes = true;
                fieldStarted = true;
                quotedField = true;
                i++;
                continue;
            }
            if (c == '"') throw RlcdException.at(file, line, "a quote inside an unquoted field");
            if (c == ',') {
                fields.add(f.toString());
                f.setLength(0);
                fieldStarted = false;
                quotedField = false;
                i++;
                continue;
            }
            if (c == '\r' || c == '\n') {
                if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') i++;
                i++;
                if (fieldStarted || !fields.isEmpty() || f.length() > 0) {
                    fields.add(f.toString());
                    out.add(new Record(recordLine, List.copyOf(fields)));
                }
                fields.clear();
                f.setLength(0);
                fieldStarted = false;
                quotedField = false;
                line++;
                recordLine = line;
                continue;
            }
            if (quotedField) throw RlcdException.at(file, line, "text after a closing quote");
            fieldStarted = true;
            f.append(c);
            i++;
        }
        if (inQuotes) throw RlcdException.at(file, recordLine, "unterminated quoted field");
        if (fieldStarted || !fields.isEmpty() || f.length() > 0) {
            fields.add(f.toString());
            out.add(new Record(recordLine, List.copyOf(fields)));
        }
        return out;
    }
}
