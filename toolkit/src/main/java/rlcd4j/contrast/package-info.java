/**
 * RLCD's simulation of preference pairs as the paper's code does it: description pairs and scoring instructions,
 * contrastive prompts p+ and p-, post-processing of samples, RLAIF scoring prompts and soft labels, CPython's random
 * generator for draw-for-draw sampling, and the simulator that plans and generates each pair (RLCD, RLAIF,
 * RLCD-Rescore).
 */
package rlcd4j.contrast;
