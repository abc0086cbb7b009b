/**
 * {@code rlcd serve}: an OpenAI-compatible HTTP server ({@code /v1/models}, {@code /v1/completions},
 * {@code /v1/chat/completions}) on the project's own engine, with one thread that owns the model and batches the
 * requests' samples, chat prompt formatting, and request checks answered as OpenAI-shaped errors.
 */
package rlcd4j.serve;
