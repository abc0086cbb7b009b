/**
 * The LLaMA-family decoder (LLaMA 1/2/3, Mistral, Qwen2) on DJL NDArrays, the model's math: the fields of a Hugging
 * Face {@code config.json} it needs, safetensors weights, the model itself and its LoRA adapters.
 */
package rlcd4j.engine.llama;
