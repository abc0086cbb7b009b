package rlcd4j.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Type casts that autograd can see. DJL 0.36's {@code NDArray.toType} runs libtorch's {@code to()} under a
 * {@code NoGradGuard}, so its result has no gradient history: a loss computed from {@code logits.toType(FLOAT32)} of an
 * fp16 model has no gradient at all, and an fp16 tensor made from an fp32 one is cut off from it. Upcasts therefore go
 * through type promotion (a product with a one-element fp32 tensor, which autograd differentiates and whose backward
 * casts the gradient back); the model avoids downcasts on the gradient path (see {@code LlamaModel.rmsNorm} and
 * {@code Parameters.lora} in training).
 */
public final class Precision {
    private Precision() {}

    /** {@code x} as fp32, differentiably; {@code x} itself when it already is fp32 (or not floating point 16-bit). */
    public static NDArray toFloat32(NDArray x) {
        if (x.getDataType() != DataType.FLOAT16) return x;
        // A [1] tensor (not 0-d: 0-d tensors do not promote) allocated by libtorch (as the trainers' Runs.scalar).
        return x.mul(x.getManager().ones(new Shape(1), DataType.FLOAT32));
    }
}
