/**
 * The toolkit's entry points: {@link rlcd4j.Rlcd}, one-liners for notebooks and JShell that delegate to the packages
 * below, and {@link rlcd4j.RlcdException}, the one error users see for bad input.
 */
package rlcd4j;
