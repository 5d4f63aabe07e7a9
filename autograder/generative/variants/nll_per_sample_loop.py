# VARIANT: flow_nll
# WHY: a loop over samples with a recursive pass through the layers and torch.logsumexp-free sums
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
    nll = [0.5 * (z[i] @ z[i]) + z.shape[1] * math.log(math.sqrt(2 * math.pi)) - total[i] for i in range(z.shape[0])]
    return torch.stack(nll).mean()
