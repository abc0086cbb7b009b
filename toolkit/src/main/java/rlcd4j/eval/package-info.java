/**
 * Evaluation as the paper ran it: decoding a policy into an outputs table, pairwise judges (an OpenAI-compatible API or
 * a local model) with the paper's GPT-4 prompt and answer parsing, a cache of verdicts, win rates with bootstrap
 * confidence intervals and length control, output statistics, and human evaluation sheets.
 */
package rlcd4j.eval;
