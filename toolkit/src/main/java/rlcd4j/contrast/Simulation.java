package rlcd4j.contrast;

import java.util.ArrayList;
import java.util.List;
import rlcd4j.data.PairRow;
import rlcd4j.data.PairStatus;
import rlcd4j.data.PreferencePairs;
import rlcd4j.data.PromptSet;
import rlcd4j.util.PythonRandom;
import rlcd4j.util.RlcdException;

/**
 * The deterministic half of a simulation: for each prompt, what will be generated and how it will be labelled.
 *
 * <p>Random draws come from one {@link PythonRandom} seeded with {@code seed}, prompt by prompt in the order of the
 * prompt set (after {@code --limit} and {@code --shard}), as the official script makes them in {@code create_prompts}:
 * <ul>
 *   <li>{@code rlcd}: {@code choice(range(#pairs))} — the description pair;</li>
 *   <li>{@code rlcd-rescore}: that choice, then {@code shuffle([p+, p-])} — which output is A;</li>
 *   <li>{@code rlaif}: {@code choice(instructions)} — the scoring instruction (the official script draws it when the
 *       pair reaches scoring; in prompt order when no sample fails; here always in prompt order, and also for prompts
 *       that are later dropped, so a drop or a resume never shifts another prompt's draw).</li>
 * </ul>
 * With seed 0 and the same prompts, the pair indices (rlcd, rlcd-rescore) and A/B orders (rlcd-rescore) equal the
 * official {@code simulate_preference_data.py --seed 0} ones; for a shard they equal the official run with
 * {@code --indices-mod n --indices-remainder i}, which also seeds per process.
 */
public final class Simulation {
    private Simulation() {}

    /** One planned row per prompt (status {@code planned}): prompts, pair index, instruction index, A/B source. */
    public static List<PairRow> plan(PromptSet prompts, AttributeSpec spec, Method method, long seed) {
        if (method.scored()) spec.requireInstructions();
        PythonRandom rng = new PythonRandom(seed);
        List<PairRow> rows = new ArrayList<>(prompts.size());
        for (PromptSet.Entry e : prompts.entries()) {
            String policy = e.policyPrompt();
            PairRow row;
            switch (method) {
                case RLCD -> {
                    int k = rng.choiceIndex(spec.size());
                    ContrastivePrompts.Contrast c =
                            ContrastivePrompts.build(e.prompt(), e.responsePrefix(), spec.pair(k));
                    row = planned(e, prompts.task(), method, policy, c.positive(), c.negative(), k, -1, "");
                }
                case RLCD_RESCORE -> {
                    int k = rng.choiceIndex(spec.size());
                    ContrastivePrompts.Contrast c =
                            ContrastivePrompts.build(e.prompt(), e.responsePrefix(), spec.pair(k));
                    List<String> order = new ArrayList<>(List.of("positive", "negative"));
                    rng.shuffle(order);
                    row = planned(
                            e,
                            prompts.task(),
                            method,
                            policy,
                            c.positive(),
                            c.negative(),
                            k,
                            spec.instructionIndexFor(k),
                            order.get(0));
                }
                case RLAIF -> {
                    int ins = rng.choiceIndex(spec.instructions().size());
                    row = planned(e, prompts.task(), method, policy, policy, policy, -1, ins, "plain");
                }
                default -> throw new RlcdException("unknown method " + method);
            }
            rows.add(row);
        }
        return rows;
    }

    private static PairRow planned(
            PromptSet.Entry e,
            String task,
            Method m,
            String policy,
            String pos,
            String neg,
            int pairIndex,
            int instructionIndex,
            String aSource) {
        return new PairRow(
                e.id(),
                task,
                m.id(),
                policy,
                e.responsePrefix(),
                pos,
                neg,
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
                PairStatus.PLANNED,
                0,
                "");
    }

    /** {@code --dry-run}: the pairs with the prompt columns filled and nothing generated. */
    public static PreferencePairs dryRun(PromptSet prompts, AttributeSpec spec, Method method, long seed) {
        return PreferencePairs.of(prompts.task() + " " + method.id() + " (dry run)", plan(prompts, spec, method, seed));
    }
}
