# VARIANT: merge_lora
# WHY: scales B first, then a sum of outer products written with einsum
# %%
# GRADED: merge_lora
import torch


def merge_lora(weight, A, B, alpha):
    r = B.shape[1]
    return weight.clone() + torch.einsum("or,ri->oi", B * (alpha / r), A)
