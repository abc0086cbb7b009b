package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.engine.llama.LoraAdapter;

/** Which tensors a trainer updates: every weight (full fine-tuning) or only a LoRA adapter's matrices. */
public final class Parameters {
    private Parameters() {}

    /** Every distinct weight of the model, under its HF name (a tied embedding appears once), marked trainable. */
    public static Map<String, NDArray> full(LlamaModel model) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        Map<NDArray, Boolean> seen = new IdentityHashMap<>();
        model.weights().forEach((name, w) -> {
            if (seen.put(w, Boolean.TRUE) == null) out.put(name, w);
        });
        out.values().forEach(w -> w.setRequiresGradient(true));
        return out;
    }

    /** The adapter's A and B matrices under PEFT's names, marked trainable; the base weights stay frozen. */
    private static Map<String, NDArray> lora(LoraAdapter adapter) {
        Map<String, NDArray> out = new LinkedHashMap<>(adapter.parameters());
        out.values().forEach(w -> w.setRequiresGradient(true));
        return out;
    }

    /**
     * The same for an adapter on a model computing in {@code computeType}: on an fp16 model the matrices are first
     * held in fp16, because the model's fp32-to-fp16 cast of them would cut their gradient (DJL's casts are not
     * differentiable, see {@link rlcd4j.engine.Precision}); AdamW then keeps their fp32 masters.
     */
    public static Map<String, NDArray> lora(LoraAdapter adapter, ai.djl.ndarray.types.DataType computeType) {
        if (computeType == ai.djl.ndarray.types.DataType.FLOAT16) adapter.castTo(computeType);
        return lora(adapter);
    }

    public static long count(Map<String, NDArray> params) {
        return params.values().stream().mapToLong(NDArray::size).sum();
    }
}
