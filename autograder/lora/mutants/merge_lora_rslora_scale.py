# MUTANT: merge_lora
# WHY: rsLoRA's alpha / sqrt(r) scale instead of the assignment's alpha / r
# %%
# GRADED: merge_lora
import math


def merge_lora(weight, A, B, alpha):
    r = A.shape[0]
    return weight + (alpha / math.sqrt(r)) * (B @ A)
