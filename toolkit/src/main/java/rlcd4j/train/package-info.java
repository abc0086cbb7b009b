/**
 * Training: the shared training loop, preference (reward) models, SFT (context distillation), DPO/IPO, PPO and
 * pretraining, with AdamW, learning-rate schedules, fp16 loss scaling, LoRA parameter selection and checkpoints that
 * resume exactly.
 */
package rlcd4j.train;
