/**
 * The {@code rlcd} command line ({@link rlcd4j.cli.Main}): one picocli command per stage of RLCD (generate, score,
 * simulate, train-pm, sft, dpo, ppo, decode, eval, human-sheet, pretrain, demo) plus the Jupyter kernel spec and
 * JShell, and the readers of the training commands' input files.
 */
package rlcd4j.cli;
