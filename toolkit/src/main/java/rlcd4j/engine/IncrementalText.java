package rlcd4j.engine;

import java.util.Arrays;
import java.util.List;

/**
 * The decoded text of a sample whose tokens arrive one step at a time, kept current by decoding only its last few
 * tokens, so that watching it for stop strings costs the same at every step. Decoding the whole sample at every step
 * costs in proportion to its length, so a row's checks grow with the square of its length
 * (docs/perf/code-figures.md#incrementaltext).
 *
 * <p>The method is the usual incremental detokenization. The tokens since the last stable point are decoded twice,
 * without and with the new ones, and the new text is the difference. Decoding from a token boundary a little back,
 * rather than from the new token alone, keeps what a tokenizer does at the start of a text (SentencePiece drops a
 * leading space) out of the middle of it. Text that ends in an incomplete character (U+FFFD: a byte token waiting
 * for the rest of its character's bytes) stays pending until later tokens complete it. If new tokens change the
 * text of the tokens decoded with them as context, the whole sample is decoded once more. Like every incremental
 * detokenizer this assumes that a token changes no text further back; the tests check {@link #text()} against a
 * decode of all the tokens at every step, for a SentencePiece-style and a byte-level tokenizer.
 */
final class IncrementalText {
    private final Tokenizer tok;
    private final StringBuilder stable = new StringBuilder(); // text of ids[0, read)
    private int prefix, read; // ids[prefix, read) are decoded again as the context of new tokens
    private String pending = ""; // text of ids[read, n), which later tokens may still change
    int wholeDecodes; // times later tokens changed earlier text (tests read it)

    IncrementalText(Tokenizer tok) {
        this.tok = tok;
    }

    /**
     * Takes in the tokens {@code ids[0, n)}, of which the first ones were given before, and returns the first index of
     * {@link #text()} that may differ from the text before this call.
     */
    int update(long[] ids, int n) {
        int before = stable.length();
        String context = decode(ids, prefix, read);
        String window = decode(ids, prefix, n);
        if (!window.startsWith(context)) { // later tokens changed earlier text: decode it all
            wholeDecodes++;
            stable.setLength(0);
            stable.append(tok.decode(Arrays.copyOf(ids, n)));
            prefix = read = n;
            pending = "";
            return 0;
        }
        String added = window.substring(context.length());
        if (!added.isEmpty() && !added.endsWith("\uFFFD")) {
            stable.append(added);
            prefix = read;
            read = n;
            pending = "";
        } else {
            pending = added;
        }
        return before;
    }

    /** The text of all tokens so far, as {@link Tokenizer#decode} gives it. */
    String text() {
        return stable + pending;
    }

    /**
     * Takes in {@code ids[0, n)} and tells whether the text now contains one of {@code stops}. Only text that this
     * step could have changed is searched, so a stop string found earlier would have ended the sample then.
     */
    boolean reaches(long[] ids, int n, List<String> stops) {
        int changed = update(ids, n);
        int longest = 0;
        for (String s : stops) longest = Math.max(longest, s.length());
        int from = Math.max(0, changed - longest + 1); // where a stop string reaching into the changed text can start
        String tail = stable.substring(from) + pending;
        for (String s : stops) if (tail.contains(s)) return true;
        return false;
    }

    private String decode(long[] ids, int from, int to) {
        return from == to ? "" : tok.decode(Arrays.copyOfRange(ids, from, to));
    }
}
