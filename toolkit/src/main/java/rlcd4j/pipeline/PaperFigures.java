package rlcd4j.pipeline;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import rlcd4j.sandbox.SandboxTask;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The paper's figures (Yang et al. 2023, RLCD) for the comparisons the demo also makes, as the paper reports them,
 * each with where it was read: the project's reference notes, {@code shared/notes/rlcd-reference.md}. That file read
 * the paper's tables through secondary summaries checked against each other (its tag [S]); it found no figures for
 * RLCD vs context distillation, and Table 5 has no outlining row. Where it has no figure, {@link #missing} says so;
 * nothing here is estimated.
 *
 * <p>Tasks map as the sandbox's ground truth judges them: harmless to the paper's harmlessness on harmless prompts
 * ("Harm"), helpful to its helpfulness task ("Help"), outline to outline quality ("Qual"). The paper's helpfulness on
 * harmless prompts ("HHelp") has no sandbox counterpart and is left out.
 */
public final class PaperFigures {
    private PaperFigures() {}

    public enum Comparison {
        RLCD_VS_RLAIF("RLCD vs RLAIF"),
        RLCD_VS_CONTEXT_DISTILLATION("RLCD vs context distillation"),
        PREFERENCE_MODEL_AGREEMENT("preference-model agreement");

        private final String title;

        Comparison(String title) {
            this.title = title;
        }

        public String title() {
            return title;
        }
    }

    /**
     * One figure pair: RLCD's and the baseline's value on one task, at one LLaMA size (the size that simulated the
     * preference data), in {@code unit}.
     */
    public record Figure(
            Comparison comparison,
            SandboxTask task,
            String size,
            String measure,
            double rlcd,
            double baseline,
            String unit,
            String source) {
        /** e.g. {@code RLCD7B 84.8 / RLAIF7B 15.2 (GPT-4: % of comparisons won)}. */
        public String text() {
            String baseName = comparison == Comparison.RLCD_VS_CONTEXT_DISTILLATION ? "Context-Dist" : "RLAIF";
            String format = unit.equals(HUMAN) ? "%.2f" : "%.1f"; // as the paper prints them
            return "RLCD" + size + " " + String.format(Locale.ROOT, format, rlcd) + " / " + baseName + size + " "
                    + String.format(Locale.ROOT, format, baseline) + " (" + measure + ": " + unit + ")";
        }
    }

    private static final String HUMAN = "rating on a 1-8 scale, normalised so the pair sums to 9";
    private static final String GPT4 = "% of comparisons won";
    private static final String AGREEMENT = "% agreement with HH-RLHF human labels";
    private static final String REF = "rlcd-reference.md ";
    private static final String ROW_30B = "§8, row RLCD30B vs RLAIF30B, ";

    /** Every figure the reference holds for the three comparisons on the sandbox's tasks. */
    public static final List<Figure> ALL = List.of(
            // §8, RLCD vs RLAIF: human (Table 2) and GPT-4 (Table 3), Harm / Help / Qual columns
            rlaif(SandboxTask.HARMLESS, "7B", "human raters", 5.62, 3.38, HUMAN, "§8, Table 2 [S]"),
            rlaif(SandboxTask.HELPFUL, "7B", "human raters", 5.88, 3.12, HUMAN, "§8, Table 2 [S]"),
            rlaif(SandboxTask.OUTLINE, "7B", "human raters", 5.97, 3.03, HUMAN, "§8, Table 2 [S]"),
            rlaif(SandboxTask.HARMLESS, "7B", "GPT-4", 84.8, 15.2, GPT4, "§8, Table 3 [S]"),
            rlaif(SandboxTask.HELPFUL, "7B", "GPT-4", 85.4, 14.6, GPT4, "§8, Table 3 [S]"),
            rlaif(SandboxTask.OUTLINE, "7B", "GPT-4", 78.5, 21.5, GPT4, "§8, Table 3 [S]"),
            rlaif(SandboxTask.HARMLESS, "30B", "human raters", 4.71, 4.29, HUMAN, ROW_30B + "human [S]"),
            rlaif(SandboxTask.HELPFUL, "30B", "human raters", 4.51, 4.49, HUMAN, ROW_30B + "human [S]"),
            rlaif(SandboxTask.OUTLINE, "30B", "human raters", 4.76, 4.24, HUMAN, ROW_30B + "human [S]"),
            rlaif(SandboxTask.HARMLESS, "30B", "GPT-4", 60.3, 39.7, GPT4, ROW_30B + "GPT-4 % [S]"),
            rlaif(SandboxTask.HELPFUL, "30B", "GPT-4", 47.8, 52.2, GPT4, ROW_30B + "GPT-4 % [S]"),
            rlaif(SandboxTask.OUTLINE, "30B", "GPT-4", 35.9, 64.1, GPT4, ROW_30B + "GPT-4 % [S]"),
            // §5.2, Table 5: preference-model accuracy on human-labelled pairs (accuracy % of RLCD's and RLAIF's)
            agreement(SandboxTask.HARMLESS, "7B", 52.4, 35.6),
            agreement(SandboxTask.HARMLESS, "30B", 55.9, 45.7),
            agreement(SandboxTask.HELPFUL, "7B", 64.4, 60.6),
            agreement(SandboxTask.HELPFUL, "30B", 66.7, 66.2));

    private static Figure rlaif(
            SandboxTask t, String size, String measure, double rlcd, double rlaif, String unit, String where) {
        return new Figure(Comparison.RLCD_VS_RLAIF, t, size, measure, rlcd, rlaif, unit, REF + where);
    }

    private static Figure agreement(SandboxTask t, String size, double rlcd, double rlaif) {
        return new Figure(
                Comparison.PREFERENCE_MODEL_AGREEMENT,
                t,
                size,
                "accuracy",
                rlcd,
                rlaif,
                AGREEMENT,
                REF + "§5.2, Table 5 [S]");
    }

    /** The reference's figures for one comparison on one task. */
    public static List<Figure> of(Comparison c, SandboxTask task) {
        return ALL.stream().filter(f -> f.comparison() == c && f.task() == task).toList();
    }

    /** Why the reference has no figure for {@code c} on {@code task}; null when it has one. */
    public static String missing(Comparison c, SandboxTask task) {
        if (!of(c, task).isEmpty()) return null;
        return switch (c) {
            case RLCD_VS_CONTEXT_DISTILLATION ->
                "not in the reference: its §8 found no RLCD vs Context-Dist numbers "
                        + "(UNVERIFIED); secondary sources say only that RLCD beats it at both sizes";
            case PREFERENCE_MODEL_AGREEMENT ->
                "not in the reference: Table 5 (§5.2) has harmlessness and helpfulness " + "rows only";
            case RLCD_VS_RLAIF -> "not in the reference";
        };
    }

    /**
     * The paper's figures beside this demo's, one row per paper figure (or one saying it is missing) of each
     * comparison on {@code task}. {@code ours} gives a headline figure (by {@link Headline}'s names) for reading, or
     * null when the run lacks it.
     */
    public static Table beside(SandboxTask task, String judge, Function<String, String> ours) {
        StringColumn comparison = StringColumn.create("comparison"),
                paper = StringColumn.create("paper"),
                source = StringColumn.create("paper's source"),
                demo = StringColumn.create("this demo");
        for (Comparison c : Comparison.values()) {
            String mine = switch (c) {
                case RLCD_VS_RLAIF -> winRate(ours, "ppo-rlcd", "ppo-rlaif", judge);
                case RLCD_VS_CONTEXT_DISTILLATION -> winRate(ours, "ppo-rlcd", "context-distillation", judge);
                case PREFERENCE_MODEL_AGREEMENT -> {
                    String a = ours.apply(Headline.accuracy("pm-rlcd")), b = ours.apply(Headline.accuracy("pm-rlaif"));
                    yield a == null || b == null ? "not measured" : "pm-rlcd " + a + "; pm-rlaif " + b;
                }
            };
            List<Figure> figures = of(c, task);
            if (figures.isEmpty()) {
                comparison.append(c.title());
                paper.append(missing(c, task));
                source.append(REF + (c == Comparison.PREFERENCE_MODEL_AGREEMENT ? "§5.2" : "§8"));
                demo.append(mine);
            }
            for (Figure f : figures) {
                comparison.append(c.title());
                paper.append(f.text());
                source.append(f.source());
                demo.append(mine);
            }
        }
        return Table.create(
                "the paper's figures beside this demo's (" + task.id() + ")", comparison, paper, source, demo);
    }

    private static String winRate(Function<String, String> ours, String a, String b, String judge) {
        String w = ours.apply(Headline.winRate(a, b));
        return w == null ? "not measured" : "win rate of " + a + " over " + b + " (judge: " + judge + "): " + w;
    }
}
