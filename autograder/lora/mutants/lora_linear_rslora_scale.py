# MUTANT: lora_linear
# WHY: rsLoRA's alpha / sqrt(r) scale instead of alpha / r
# %%
# GRADED: lora_linear
import math


def lora_linear(x, weight, bias, A, B, alpha):
    r = A.shape[0]
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    return out + (alpha / math.sqrt(r)) * ((x @ A.T) @ B.T)
