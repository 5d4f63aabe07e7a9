# MUTANT: merge_lora
# WHY: scales by alpha over the square root of the rank (the rsLoRA rule) instead of alpha over the rank.
# %%
# GRADED: merge_lora
import math


def merge_lora(weight, A, B, alpha):
    r = A.shape[0]
    return weight + (alpha / math.sqrt(r)) * (B @ A)
