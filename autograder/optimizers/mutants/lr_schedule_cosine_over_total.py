# MUTANT: lr_schedule
# WHY: measures the progress of the cosine decay over all the steps instead of over the steps after warmup.
# %%
# GRADED: lr_schedule
import math


def cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0):
    if step < warmup_steps:
        return peak_lr * step / warmup_steps
    progress = min(step / total_steps, 1.0)
    return min_lr + 0.5 * (peak_lr - min_lr) * (1 + math.cos(math.pi * progress))
