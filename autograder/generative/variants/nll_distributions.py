# VARIANT: flow_nll
# WHY: torch.distributions.Normal's log_prob for the base density
# %%
# GRADED: flow_nll
import math

import torch


def flow_nll(flow_layers, x):
    z, total = x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for layer in flow_layers:
        z, log_det = layer(z)
        total = total + log_det
    base = torch.distributions.Normal(torch.zeros((), dtype=x.dtype, device=x.device), torch.ones((), dtype=x.dtype, device=x.device))
    return -(base.log_prob(z).sum(-1) + total).mean()
