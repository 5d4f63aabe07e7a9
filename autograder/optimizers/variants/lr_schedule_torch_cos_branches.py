# VARIANT: lr_schedule
# WHY: explicit branches for the clamped ends (progress >= 1 returns min_lr, progress <= 0 returns
#      peak_lr) and the cosine computed with torch in float64 and converted with .item(); the warmup as
#      peak * (step / warmup); the decay written as peak*h + min*(1 - h) with h = (1 + cos) / 2
# %%
# GRADED: lr_schedule
import math

import torch


def cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0):
    """Linear warmup from 0 to peak_lr, then half a cosine down to min_lr at total_steps."""
    if step < warmup_steps:
        return float(peak_lr * (step / warmup_steps))
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    if progress >= 1:
        return float(min_lr)
    if progress <= 0:
        return float(peak_lr)
    h = (0.5 * (1 + torch.cos(torch.tensor(math.pi * progress, dtype=torch.float64)))).item()
    return float(peak_lr * h + min_lr * (1 - h))
