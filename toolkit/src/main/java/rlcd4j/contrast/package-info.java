/**
 * RLCD's simulation of preference pairs as the paper's code does it: description pairs and scoring instructions,
 * contrastive prompts p+ and p-, RLAIF scoring prompts, and the simulator that plans and generates each pair (RLCD,
 * RLAIF, RLCD-Rescore). The samples' post-processing, the soft label and CPython's random generator are in
 * {@code rlcd4j.util}, since the data formats use them too.
 */
package rlcd4j.contrast;
