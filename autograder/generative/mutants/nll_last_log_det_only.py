# MUTANT: flow_nll
# WHY: only the last layer's log-determinant is counted
# %%
# GRADED: flow_nll
import math

import torch


def flow_nll(flow_layers, x):
    z, log_det = x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for layer in flow_layers:
        z, log_det = layer(z)
    log_pz = -0.5 * z.pow(2).sum(dim=-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)
    return -(log_pz + log_det).mean()
