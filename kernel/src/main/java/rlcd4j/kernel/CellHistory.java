package rlcd4j.kernel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The cells this kernel has run (those sent with store_history), for Jupyter's history_request: the last n, a range
 * of execution counts, or a glob search. The kernel keeps no history file, so there is one session: number 1, which
 * requests may also call 0 ("the current session"); earlier sessions are empty.
 */
final class CellHistory {
    /** The number this kernel's session reports in history entries. */
    static final int SESSION = 1;

    /** One executed cell: its execution count, source, and the text/plain of its result (null when none). */
    record Entry(int session, int cell, String input, String output) {}

    private final List<Entry> entries = new ArrayList<>();

    synchronized void add(int cell, String input, String output) {
        entries.add(new Entry(SESSION, cell, input, output));
    }

    /** The last n cells, oldest first. */
    synchronized List<Entry> tail(int n) {
        if (n <= 0) return List.of();
        return List.copyOf(entries.subList(Math.max(0, entries.size() - n), entries.size()));
    }

    /**
     * Cells with start <= count < stop of the given session (0 or {@link #SESSION}: this one). A stop of 0 or less
     * means "to the end", as IPython reads a missing stop.
     */
    synchronized List<Entry> range(int session, int start, int stop) {
        if (session != 0 && session != SESSION) return List.of();
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.cell() >= start && (stop <= 0 || e.cell() < stop)) out.add(e);
        }
        return out;
    }

    /**
     * Cells whose whole source matches the glob pattern ({@code *} any text, {@code ?} one character), oldest first;
     * the last n when n > 0; with unique, only the latest of equal sources.
     */
    synchronized List<Entry> search(String glob, int n, boolean unique) {
        Pattern p = globToRegex(glob == null || glob.isEmpty() ? "*" : glob);
        List<Entry> hits = new ArrayList<>();
        for (Entry e : entries) if (p.matcher(e.input()).matches()) hits.add(e);
        if (unique) {
            Map<String, Entry> latest = new LinkedHashMap<>();
            for (Entry e : hits) {
                latest.remove(e.input());
                latest.put(e.input(), e);
            }
            hits = new ArrayList<>(latest.values());
        }
        return n > 0 && hits.size() > n ? List.copyOf(hits.subList(hits.size() - n, hits.size())) : hits;
    }

    static Pattern globToRegex(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
