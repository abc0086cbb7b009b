/** The model engine: checkpoints, tokenizer, forward pass, generation, scoring, LoRA. */
package rlcd4j.engine;
