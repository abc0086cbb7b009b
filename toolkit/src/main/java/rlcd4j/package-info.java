/**
 * The toolkit's entry points, the top of its package graph: {@link rlcd4j.Rlcd}, one-liners for notebooks and
 * JShell that delegate to the packages below, and {@link rlcd4j.StartupImports}, the imports a notebook or
 * {@code rlcd shell} starts with. Only the CLI and the kernel use this package; the one error users see for bad input,
 * {@link rlcd4j.util.RlcdException}, lives at the bottom, in {@code rlcd4j.util}. The layers: docs/architecture.md.
 */
package rlcd4j;
