# VARIANT: merge_lora
# WHY: torch.addmm with the scale as its alpha: out = weight + (alpha / r) (B @ A) in one call
# %%
# GRADED: merge_lora
import torch


def merge_lora(weight, A, B, alpha):
    return torch.addmm(weight, B, A, beta=1.0, alpha=alpha / A.size(0))
