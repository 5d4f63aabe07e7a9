# VARIANT: lora_linear
# WHY: F.linear for the base and for each factor, scale applied to the rank-r activations
# %%
# GRADED: lora_linear
import torch.nn.functional as F


def lora_linear(x, weight, bias, A, B, alpha):
    scale = alpha / A.shape[0]
    return F.linear(x, weight, bias) + F.linear(scale * F.linear(x, A), B)
