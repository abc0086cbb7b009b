/**
 * The demo's synthetic world with a known truth: its dialogue generators and tasks, the ground-truth judge no trainer
 * sees, the premise gap, and the pretraining of the bundled base model (corpus, byte-level BPE tokenizer, LLaMA
 * config).
 */
package rlcd4j.sandbox;
