# MUTANT: flow_nll
# WHY: the layers are applied in reverse order
# %%
# GRADED: flow_nll
import math

import torch


def flow_nll(flow_layers, x):
    z, total = x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for layer in reversed(list(flow_layers)):
        z, log_det = layer(z)
        total = total + log_det
    log_pz = -0.5 * z.pow(2).sum(dim=-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)
    return -(log_pz + total).mean()
