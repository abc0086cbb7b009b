/**
 * The LLaMA-family decoder (LLaMA 1/2/3, Mistral, Qwen2) on DJL NDArrays: the fields of a Hugging Face
 * {@code config.json} it needs, the model itself, and a helper thread that splits small decode-step products.
 */
package rlcd4j.engine.llama;
