# MUTANT: lr_schedule
# WHY: counts warmup steps from one, so the very first learning rate is not zero.
# %%
# GRADED: lr_schedule
import math


def cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0):
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(max(progress, 0.0), 1.0)
    return min_lr + 0.5 * (peak_lr - min_lr) * (1 + math.cos(math.pi * progress))
