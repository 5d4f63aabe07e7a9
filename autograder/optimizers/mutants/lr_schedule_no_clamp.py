# MUTANT: lr_schedule
# WHY: keeps following the cosine after the last scheduled step, so the learning rate rises again.
# %%
# GRADED: lr_schedule
import math


def cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0):
    if step < warmup_steps:
        return peak_lr * step / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + 0.5 * (peak_lr - min_lr) * (1 + math.cos(math.pi * progress))
