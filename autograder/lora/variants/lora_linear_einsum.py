# VARIANT: lora_linear
# WHY: einsum for both paths, bias added last
# %%
# GRADED: lora_linear
import torch


def lora_linear(x, weight, bias, A, B, alpha):
    r = A.shape[0]
    out = torch.einsum("...i,oi->...o", x, weight)
    out = out + (alpha / r) * torch.einsum("...r,or->...o", torch.einsum("...i,ri->...r", x, A), B)
    return out if bias is None else out + bias
