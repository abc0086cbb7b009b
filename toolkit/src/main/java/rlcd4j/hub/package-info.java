/**
 * The Hugging Face Hub client: resolves a model id to a local snapshot (download, cache, offline mode), apart from the
 * engine, which only reads local folders.
 */
package rlcd4j.hub;
