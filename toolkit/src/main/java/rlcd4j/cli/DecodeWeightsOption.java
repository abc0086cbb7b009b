package rlcd4j.cli;

import picocli.CommandLine.Option;
import rlcd4j.engine.CausalLM;
import rlcd4j.util.RlcdException;

/** {@code --decode-weights}: which copy of the weights decode steps read (a picocli mixin of generate and serve). */
final class DecodeWeightsOption {
    @Option(
            names = "--decode-weights",
            description = "fp32: decode steps read the fp32 weights; checkpoint: a checkpoint stored in bf16 or fp16 "
                    + "is read in that type, its exact values at half the bytes per step (CPU, native decode step) "
                    + "(default: ${DEFAULT-VALUE}).")
    String decodeWeights = CausalLM.Options.DEFAULT_DECODE_WEIGHTS;

    /** How to load the model: the defaults, with this option. */
    CausalLM.Options loading() {
        if (!CausalLM.Options.DECODE_WEIGHTS.contains(decodeWeights))
            throw new RlcdException("--decode-weights: expected " + String.join(" or ", CausalLM.Options.DECODE_WEIGHTS)
                    + ", got " + decodeWeights);
        return CausalLM.Options.defaults().withDecodeWeights(decodeWeights);
    }
}
