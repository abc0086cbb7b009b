package rlcd4j.engine;

import java.util.List;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * One decoded continuation.
 *
 * @param promptIds    the ids fed to the model (BOS included when the tokenizer adds one)
 * @param ids          the generated ids, EOS included when the model produced it
 * @param text         the continuation without special tokens, cut before the first stop string
 * @param rawText      the whole continuation with special tokens kept (e.g. {@code </s>}), stop string included
 * @param logprobs     for each generated id, its log-probability under the model's unmodified distribution
 *                     (temperature 1, no top-k/top-p, no bans)
 * @param finishReason {@code eos}, {@code stop} or {@code length}
 */
public record Generation(
        String prompt,
        long[] promptIds,
        long[] ids,
        String text,
        String rawText,
        float[] logprobs,
        String finishReason) {

    public double sumLogprob() {
        double s = 0;
        for (float l : logprobs) s += l;
        return s;
    }

    /** {@code prompt, output, tokens, logprob, finish_reason}: one row per generation. */
    public static Table toTable(List<Generation> gens) {
        StringColumn prompt = StringColumn.create("prompt");
        StringColumn output = StringColumn.create("output");
        IntColumn tokens = IntColumn.create("tokens");
        DoubleColumn logprob = DoubleColumn.create("logprob");
        StringColumn finish = StringColumn.create("finish_reason");
        for (Generation g : gens) {
            prompt.append(g.prompt());
            output.append(g.text());
            tokens.append(g.ids().length);
            logprob.append(g.sumLogprob());
            finish.append(g.finishReason());
        }
        return Table.create("generations", prompt, output, tokens, logprob, finish);
    }
}
