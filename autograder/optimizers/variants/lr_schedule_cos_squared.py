# VARIANT: lr_schedule
# WHY: the half cosine written with the identity (1 + cos x) / 2 = cos^2(x / 2), as an interpolation
#      min + (peak - min) * w; progress clamped on the integer step count before dividing; the warmup
#      written as step / warmup * peak
# %%
# GRADED: lr_schedule
import math


def cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0):
    """Linear warmup from 0 to peak_lr, then half a cosine down to min_lr at total_steps."""
    if warmup_steps > 0 and step < warmup_steps:
        return float(step / warmup_steps * peak_lr)
    span = max(1, total_steps - warmup_steps)
    done = min(max(step - warmup_steps, 0), span)
    w = math.cos(0.5 * math.pi * done / span) ** 2  # 1 at the start of the decay, 0 at its end
    return float(min_lr + (peak_lr - min_lr) * w)
