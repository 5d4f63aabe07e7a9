# MUTANT: lr_schedule
# WHY: treats the step right at the end of warmup as still warming up, which divides by zero when there is no warmup.
# %%
# GRADED: lr_schedule
import math


def cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0):
    if step <= warmup_steps:
        return peak_lr * step / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    progress = min(progress, 1.0)
    return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
