/**
 * Generation on OpenAI-compatible servers (vLLM, SGLang, TGI, {@code rlcd serve}) through {@code /v1/completions}: a
 * generation backend that keeps the model's own tokenizer locally, and the reading of the servers' answers.
 */
package rlcd4j.engine.remote;
