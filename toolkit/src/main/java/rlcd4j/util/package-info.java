/**
 * The bottom layer: small helpers every other package may use, which depend on nothing else in rlcd4j (Python's string
 * rules, HTML escaping and tables, seed mixing).
 */
package rlcd4j.util;
