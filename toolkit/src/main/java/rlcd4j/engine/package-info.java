/**
 * The model engine: loading a checkpoint ({@link rlcd4j.engine.CausalLM}), tokenizer, generation and batching,
 * sampling, scoring. The model's math is in {@code rlcd4j.engine.llama}, CPU speed tricks in {@code rlcd4j.engine.cpu}.
 */
package rlcd4j.engine;
