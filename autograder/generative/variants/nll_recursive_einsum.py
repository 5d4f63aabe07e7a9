# VARIANT: flow_nll
# WHY: a recursive pass through the layers, ||z||^2 as an einsum and the constant as D log(sqrt(2 pi))
# %%
# GRADED: flow_nll
import math

import torch


def flow_nll(flow_layers, x):
    def push(z, layers):
        if not layers:
            return z, torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        y, ld = layers[0](z)
        out, rest = push(y, layers[1:])
        return out, ld + rest

    z, total = push(x, list(flow_layers))
    nll = 0.5 * torch.einsum("nd,nd->n", z, z) + z.shape[1] * math.log(math.sqrt(2 * math.pi)) - total
    return nll.mean()
