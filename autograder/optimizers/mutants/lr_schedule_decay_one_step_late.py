# MUTANT: lr_schedule
# WHY: starts the cosine decay one step late, holding the peak learning rate for an extra step.
# %%
# GRADED: lr_schedule
import math


def cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0):
    if step < warmup_steps:
        return peak_lr * step / warmup_steps
    progress = (step - warmup_steps - 1) / max(1, total_steps - warmup_steps - 1)
    progress = min(max(progress, 0.0), 1.0)
    return min_lr + 0.5 * (peak_lr - min_lr) * (1 + math.cos(math.pi * progress))
