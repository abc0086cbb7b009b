package rlcd4j.data;

/**
 * One row of the pairs table: one prompt's simulated preference pair (or the reason it has none).
 * Columns and meanings are in {@link PairsTable} and docs/data.md. Missing ints are -1, missing doubles NaN,
 * missing strings "" (null in JSON for numbers).
 */
public record PairRow(
        int id,
        String task,
        String method,
        String prompt,
        String responsePrefix,
        String positivePrompt,
        String negativePrompt,
        int pairIndex,
        int instructionIndex,
        String aSource,
        String chosen,
        String rejected,
        String chosenSlot,
        double aLogit,
        double bLogit,
        double pB,
        double pChosen,
        PairStatus status,
        int attempts,
        String error) {

    public PairRow {
        task = nz(task);
        method = nz(method);
        prompt = nz(prompt);
        responsePrefix = nz(responsePrefix);
        positivePrompt = nz(positivePrompt);
        negativePrompt = nz(negativePrompt);
        aSource = nz(aSource);
        chosen = nz(chosen);
        rejected = nz(rejected);
        chosenSlot = nz(chosenSlot);
        error = nz(error);
        if (status == null) throw new IllegalArgumentException("a pair row needs a status");
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    public boolean ok() {
        return status == PairStatus.OK;
    }

    /** The same row finished by RLCD: o+ chosen, hard label 1.0. */
    public PairRow withRlcdResult(String positiveOutput, String negativeOutput, int attempts) {
        return new PairRow(
                id,
                task,
                method,
                prompt,
                responsePrefix,
                positivePrompt,
                negativePrompt,
                pairIndex,
                instructionIndex,
                aSource,
                positiveOutput,
                negativeOutput,
                "",
                Double.NaN,
                Double.NaN,
                Double.NaN,
                1.0,
                PairStatus.OK,
                attempts,
                "");
    }

    /**
     * The same row finished by RLAIF scoring of outputs A and B: the chosen one is B when P(B) > 0.5 (the official
     * {@code preference = 2 if win2_prob > 0.5 else 1}), and {@code p_chosen} is the probability of that choice.
     */
    public PairRow withScoredResult(
            String outputA, String outputB, double aLogit, double bLogit, double pB, int attempts) {
        boolean b = pB > 0.5;
        return new PairRow(
                id,
                task,
                method,
                prompt,
                responsePrefix,
                positivePrompt,
                negativePrompt,
                pairIndex,
                instructionIndex,
                aSource,
                b ? outputB : outputA,
                b ? outputA : outputB,
                b ? "B" : "A",
                aLogit,
                bLogit,
                pB,
                b ? pB : 1 - pB,
                PairStatus.OK,
                attempts,
                "");
    }

    /** The same row with no pair: {@code dropped} after the retries, or {@code error} for bad input. */
    public PairRow withFailure(PairStatus status, int attempts, String error) {
        return new PairRow(
                id,
                task,
                method,
                prompt,
                responsePrefix,
                positivePrompt,
                negativePrompt,
                pairIndex,
                instructionIndex,
                aSource,
                "",
                "",
                "",
                Double.NaN,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                status,
                attempts,
                error);
    }

    /** Output A of a scored row (the chosen one when {@code chosen_slot} is A). */
    public String outputA() {
        return "B".equals(chosenSlot) ? rejected : chosen;
    }

    public String outputB() {
        return "B".equals(chosenSlot) ? chosen : rejected;
    }
}
